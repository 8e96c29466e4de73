import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlContext, FakeHypervisor } from '../../test/support/fakes.js';
import { PolicyEngine } from '../engine/policy-engine.js';
import type { Entities, Snapshot } from '../entities/snapshot.js';
import { type IoTuneDisk, NO_IO_LIMITS } from '../fields/io-tune.js';
import { HypervisorError, type HypervisorCapability } from '../hypervisors/hypervisor.js';
import { RecordValue } from '../policy/values.js';
import type { Outcome } from './controller.js';
import { createIoTuneController, ioTuneWishes } from './io-tune.js';

const unlimited = NO_IO_LIMITS;
const disk = (name: string, over: Partial<IoTuneDisk> = {}): IoTuneDisk => ({
  name,
  path: `/images/${name}.img`,
  guaranteed: {},
  maximum: {},
  current: unlimited,
  ...over,
});

function evaluate(policy: string, disks: unknown): Entities {
  const snapshot: Snapshot = {
    fields: { host: [], guest: ['io_tune'] },
    host: { properties: {}, stats: [{}] },
    guests: [
      {
        properties: { name: 'db1' },
        stats: [{ io_tune: disks as Snapshot['guests'][0]['stats'][0][string] }],
      },
    ],
  };
  const engine = new PolicyEngine(() => {});
  assert.ok(engine.load([{ file: 'io.policy', text: policy }]).ok);
  const r = engine.evaluate(snapshot);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.entities;
}

function hypervisor(): FakeHypervisor {
  const hv = new FakeHypervisor();
  hv.capabilities = new Set<HypervisorCapability>(['balloon', 'guest-stats', 'io-tune']);
  return hv;
}

async function reconcile(entities: Entities, hv = hypervisor()): Promise<Outcome[]> {
  return createIoTuneController().reconcile(controlContext({ entities, hypervisor: hv }));
}

const brief = (os: Outcome[]): unknown[] => os.map((o) => [o.control, o.outcome]);

// Only the first dot of a name resolves (as in MOM): the maximum is bound first, as vdsm does.
const TO_MAXIMUM = `(with Guests g (with g.io_tune t {
  (defvar top t.maximum)
  (t.setTotalBytesSec top.total_bytes_sec)
  (t.setReadIopsSec top.read_iops_sec) }))`;

test('a disk whose wish differs is sent with all six values; one already there is unchanged and not sent', async () => {
  const hv = hypervisor();
  const entities = evaluate(TO_MAXIMUM, [
    disk('vda', { maximum: { total_bytes_sec: 4_000_000, read_iops_sec: 300 } }),
    disk('vdb', { maximum: { total_bytes_sec: 0 }, current: unlimited }),
  ]);
  const out = await reconcile(entities, hv);
  assert.deepEqual(brief(out), [
    ['io_tune[vda]', 'applied'],
    ['io_tune[vdb]', 'unchanged'],
  ]);
  assert.equal(out[0]?.reason, 'total_bytes_sec 0 → 4000000, read_iops_sec 0 → 300');
  assert.deepEqual(hv.ioTuneCalls, [
    { id: 'id-db1', disk: 'vda', limits: { ...unlimited, total_bytes_sec: 4_000_000, read_iops_sec: 300 } },
  ]);
});

test('level-based: at the wished limits nothing is sent; a key left nil keeps its value', async () => {
  const hv = hypervisor();
  const now = { ...unlimited, total_bytes_sec: 4_000_000, write_iops_sec: 50 };
  // maximum lacks read_iops_sec: the setter gets nil and write_iops_sec is not touched at all.
  const entities = evaluate(TO_MAXIMUM, [
    disk('vda', { maximum: { total_bytes_sec: 4_000_000 }, current: now }),
  ]);
  assert.deepEqual(brief(await reconcile(entities, hv)), [['io_tune[vda]', 'unchanged']]);
  assert.deepEqual(hv.ioTuneCalls, []);
});

test('(guest.Control "io_tune" LIST) with records: by name or by path, limits flat or under ioTune', async () => {
  const entities = evaluate('0', [disk('vda'), disk('vdb')]);
  const guest = entities.guests[0];
  assert.ok(guest);
  guest.controls.set('io_tune', [
    new RecordValue({ name: 'vda', ioTune: { write_bytes_sec: 1_000_000 } }, 'a'),
    new RecordValue({ path: '/images/vdb.img', total_iops_sec: 100 }, 'b'),
    new RecordValue({ name: 'vdz', total_iops_sec: 100 }, 'c'),
  ]);
  const hv = hypervisor();
  const out = await reconcile(entities, hv);
  assert.deepEqual(brief(out), [
    ['io_tune[vda]', 'applied'],
    ['io_tune[vdb]', 'applied'],
    ['io_tune[vdz]', 'skipped'],
  ]);
  assert.equal(out[2]?.reason, 'the guest has no disk vdz');
  assert.deepEqual(
    hv.ioTuneCalls.map((c) => [c.disk, c.limits.write_bytes_sec, c.limits.total_iops_sec]),
    [
      ['vda', 1_000_000, 0],
      ['vdb', 0, 100],
    ],
  );
});

test('what cannot be applied says why: not a list, a negative limit, a refusal, no io-tune, nil io_tune', async () => {
  assert.equal(ioTuneWishes(5n), 'io_tune: expected a list of disks, got int');
  const entities = evaluate('0', [disk('vda')]);
  const guest = entities.guests[0];
  assert.ok(guest);
  guest.controls.set('io_tune', [new RecordValue({ name: 'vda', read_bytes_sec: -1 }, 'a')]);
  const negative = await reconcile(entities);
  assert.deepEqual(
    negative.map((o) => [o.outcome, o.reason]),
    [['failed', 'read_bytes_sec: -1 is negative']],
  );

  const refused = evaluate(TO_MAXIMUM, [
    disk('vda', { maximum: { total_bytes_sec: 1000, read_iops_sec: 5 } }),
  ]);
  const hv = hypervisor();
  hv.failWith = new HypervisorError(
    'MOM_E_INVALID_ARGUMENT',
    'total and read/write cannot be set at the same time',
  );
  const failed = await reconcile(refused, hv);
  assert.equal(failed[0]?.outcome, 'failed');
  assert.match(failed[0]?.reason ?? '', /^MOM_E_INVALID_ARGUMENT: total and read\/write/);

  const bare = await reconcile(refused, new FakeHypervisor());
  assert.deepEqual(
    bare.map((o) => [o.outcome, o.reason]),
    [['skipped', 'the hypervisor backend cannot do io-tune']],
  );

  const noStats = evaluate('0', null);
  noStats.guests[0]?.controls.set('io_tune', [new RecordValue({ name: 'vda', read_bytes_sec: 1 }, 'a')]);
  const nil = await reconcile(noStats);
  assert.equal(nil[0]?.outcome, 'skipped');
  assert.match(nil[0]?.reason ?? '', /io_tune is nil/);
});
