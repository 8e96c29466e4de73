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

function manager(hv: FakeHypervisor, tuning: TuningRequest | undefined, lines: string[], agent = false) {
  const samples = new Map<string, Sample | null>();
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const gm = new GuestManager(hv, {
    fields: configuredFields('guest', ['GuestBalloon', 'GuestMemory', 'GuestCpuTune', 'GuestIoTune']),
    historyLength: 3,
    limits: [],
    controlLog: new ControlLog(1024),
    stuckTimeoutS: 60,
    now: () => 0,
    log,
    ...(tuning ? { tuning } : {}),
    agent,
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

test('GuestQemuAgent: only a guest without balloon statistics is asked; the agent fills what the balloon left nil', async () => {
  const hv = new FakeHypervisor();
  hv.add('stats', guestReading());
  // No balloon driver: balloon_cur and balloon_max only (every statistic nil).
  hv.add('bare', {
    mem_available: null,
    mem_unused: null,
    mem_cache: null,
    mem_usable: null,
    stats_age_s: null,
    swap_in: null,
    swap_out: null,
    major_fault: null,
    minor_fault: null,
    swap_total: null,
    swap_usage: null,
  });
  hv.agent.set('id-bare', guestReading({ mem_available: 999, mem_unused: 111, swap_in: 7, balloon_cur: 1 }));
  const lines: string[] = [];
  const { gm, samples } = manager(hv, undefined, lines, true);
  await gm.refresh();
  await gm.collect();
  assert.deepEqual(hv.agentAsked, [['id-bare']], 'the guest with statistics is not asked');
  const s = samples.get('bare');
  assert.ok(s);
  assert.deepEqual([s['mem_available'], s['mem_unused']], [999, 111]);
  assert.equal(s['balloon_cur'], 1048576, "the balloon's own value wins over the agent's");
  assert.equal(samples.get('stats')?.['mem_available'], 1048576);

  // Not configured: nobody is asked.
  const quiet = new FakeHypervisor();
  quiet.add('bare', { mem_available: null });
  const { gm: off, samples: plain } = manager(quiet, undefined, [], false);
  await off.refresh();
  await off.collect();
  assert.deepEqual(quiet.agentAsked, []);
  assert.equal(plain.get('bare')?.['mem_available'], null);
});

test("an agent that cannot be read: the guest's memory fields stay nil, said once, and said when it answers again", async () => {
  const hv = new FakeHypervisor();
  hv.add('bare', { mem_available: null, mem_unused: null });
  hv.agent.set(
    'id-bare',
    new HypervisorError('MOM_E_TRANSPORT', 'guest agent at /run/qga/bare.agent: ENOENT'),
  );
  const lines: string[] = [];
  const { gm, samples } = manager(hv, undefined, lines, true);
  await gm.refresh();
  await gm.collect();
  await gm.collect();
  assert.equal(samples.get('bare')?.['mem_available'], null);
  assert.equal(samples.get('bare')?.['balloon_cur'], 1048576, 'the sample still counts');
  const warned = lines.filter((l) => l.includes('its guest agent cannot be read'));
  assert.equal(warned.length, 1, lines.join('\n'));
  assert.match(warned[0] ?? '', /ENOENT/);
  hv.agent.set('id-bare', guestReading({ mem_available: 4242 }));
  await gm.collect();
  assert.equal(samples.get('bare')?.['mem_available'], 4242);
  assert.ok(lines.some((l) => l.includes('the guest agent of bare answers again')));
});
