import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FakeHypervisor, guestReading } from '../../test/support/fakes.js';
import type { Sample } from '../entities/entity.js';
import { HypervisorError, type TuningRequest } from '../hypervisors/hypervisor.js';
import { ControlLog } from './control-log.js';
import { GuestManager } from './guest-manager.js';
import { configuredFields } from './monitors.js';
import { NO_IO_LIMITS } from '../fields/io-tune.js';

const NONE = NO_IO_LIMITS;

function manager(hv: FakeHypervisor, tuning: TuningRequest | undefined, lines: string[]) {
  const samples = new Map<string, Sample | null>();
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const gm = new GuestManager(hv, {
    fields: configuredFields('guest', ['GuestBalloon', 'GuestCpuTune', 'GuestIoTune']),
    historyLength: 3,
    limits: [],
    controlLog: new ControlLog(1024),
    stuckTimeoutS: 60,
    now: () => 0,
    log,
    ...(tuning ? { tuning } : {}),
    onSample: (g, s) => samples.set(g.name, s),
  });
  return { gm, samples };
}

test("tuning is read with the statistics when configured, and merged into the guest's sample", async () => {
  const hv = new FakeHypervisor();
  hv.add('a', guestReading());
  hv.tuning.set('id-a', {
    vcpu_quota: -1,
    vcpu_period: 100000,
    vcpu_user_limit: 100,
    vcpu_count: 2,
    io_tune: [{ name: 'vda', path: null, guaranteed: {}, maximum: {}, current: NONE }],
  });
  const { gm, samples } = manager(hv, { cpu: true, io: true }, []);
  await gm.refresh();
  await gm.collect();
  const s = samples.get('a');
  assert.ok(s);
  assert.deepEqual(
    [s['vcpu_quota'], s['vcpu_period'], s['vcpu_user_limit'], s['vcpu_count']],
    [-1, 100000, 100, 2],
  );
  assert.deepEqual(s['io_tune'], [{ name: 'vda', path: null, guaranteed: {}, maximum: {}, current: NONE }]);

  const { gm: off, samples: plain } = manager(hv, undefined, []);
  await off.refresh();
  await off.collect();
  assert.equal(plain.get('a')?.['vcpu_quota'], null, 'not configured: nil, and not asked for');
});

test('a guest whose tuning cannot be read keeps its sample, with those fields nil, said once', async () => {
  const hv = new FakeHypervisor();
  hv.add('a', guestReading());
  hv.tuning.set('id-a', new HypervisorError('MOM_E_TRANSPORT', 'virsh schedinfo: no answer'));
  const lines: string[] = [];
  const { gm, samples } = manager(hv, { cpu: true, io: false }, lines);
  await gm.refresh();
  await gm.collect();
  await gm.collect();
  const s = samples.get('a');
  assert.ok(s, 'the memory statistics still count');
  assert.equal(s['vcpu_quota'], null);
  assert.equal(s['balloon_cur'], 1048576);
  const warned = lines.filter((l) => l.includes('cannot read the CPU or I/O tuning of a'));
  assert.equal(warned.length, 1, lines.join('\n'));
  hv.tuning.set('id-a', { vcpu_quota: 5000, vcpu_period: 100000, vcpu_user_limit: 50, vcpu_count: 1 });
  await gm.collect();
  assert.equal(samples.get('a')?.['vcpu_quota'], 5000);
  assert.ok(lines.some((l) => l.includes('tuning of a is read again')));
});
