import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlContext, FakeHypervisor } from '../../test/support/fakes.js';
import { buildEntities, type Entities } from '../entities/snapshot.js';
import { HypervisorError, type HypervisorCapability } from '../hypervisors/hypervisor.js';
import type { Value } from '../policy/values.js';
import type { Outcome } from './controller.js';
import { createCpuTuneController, wantedPeriod, wantedQuota } from './cpu-tune.js';

interface G {
  quota: number | null;
  period: number | null;
  wantQuota?: Value;
  wantPeriod?: Value;
}

function entities(guests: Record<string, G>): Entities {
  const e = buildEntities({
    fields: { host: [], guest: ['vcpu_quota', 'vcpu_period'] },
    host: { properties: {}, stats: [{}] },
    guests: Object.entries(guests).map(([name, g]) => ({
      properties: { name },
      stats: [{ vcpu_quota: g.quota, vcpu_period: g.period }],
    })),
  });
  for (const g of e.guests) {
    const spec = guests[String(g.properties['name'])];
    if (spec?.wantQuota !== undefined) g.controls.set('vcpu_quota', spec.wantQuota);
    if (spec?.wantPeriod !== undefined) g.controls.set('vcpu_period', spec.wantPeriod);
  }
  return e;
}

const CAPS = new Set<HypervisorCapability>(['balloon', 'guest-stats', 'cpu-tune']);

async function reconcile(guests: Record<string, G>, hv = tuningHypervisor()): Promise<Outcome[]> {
  const entitiesNow = entities(guests);
  return createCpuTuneController().reconcile(controlContext({ entities: entitiesNow, hypervisor: hv }));
}

function tuningHypervisor(): FakeHypervisor {
  const hv = new FakeHypervisor();
  hv.capabilities = CAPS;
  return hv;
}

const brief = (os: Outcome[]): unknown[] => os.map((o) => [o.control, o.outcome, o.old, o.new]);

test('sends only what differs from the same snapshot, in one call; a float is truncated as MOM does', async () => {
  const hv = tuningHypervisor();
  const out = await reconcile(
    { a: { quota: -1, period: 100000, wantQuota: 25000.7, wantPeriod: 100000n } },
    hv,
  );
  assert.deepEqual(brief(out), [
    ['vcpu_period', 'unchanged', 100000, 100000],
    ['vcpu_quota', 'applied', -1, 25000],
  ]);
  assert.deepEqual(hv.cpuTuneCalls, [{ id: 'id-a', settings: { quota: 25000 } }]);

  const again = tuningHypervisor();
  const same = await reconcile(
    { a: { quota: 25000, period: 100000, wantQuota: 25000n, wantPeriod: 100000n } },
    again,
  );
  assert.deepEqual(
    same.map((o) => o.outcome),
    ['unchanged', 'unchanged'],
  );
  assert.deepEqual(
    again.cpuTuneCalls,
    [],
    'level-based: nothing sent when the guest is where the policy wants it',
  );
});

test('no limit is -1 whatever the spelling: 0, any negative, or a quota beyond the ceiling', async () => {
  assert.deepEqual(wantedQuota(0), { value: -1 });
  assert.deepEqual(wantedQuota(-5), { value: -1 });
  assert.deepEqual(wantedQuota(17_592_186_044_415), { value: -1 });
  assert.equal(wantedQuota(500).value, 1000, 'raised to the 1 ms the kernel needs');
  assert.match(wantedQuota(500).note ?? '', /raised from 500/);
  // vdsm's reset sets -1 every cycle: a guest with no limit (libvirt on cgroup v2 shows it as
  // 17592186044415) is left alone.
  const hv = tuningHypervisor();
  const out = await reconcile({ a: { quota: 17_592_186_044_415, period: 100000, wantQuota: -1n } }, hv);
  assert.deepEqual(brief(out), [['vcpu_quota', 'unchanged', -1, -1]]);
  assert.deepEqual(hv.cpuTuneCalls, []);
});

test('a period outside [1 ms, 1 s] is clamped, and the outcome says so', async () => {
  assert.deepEqual(wantedPeriod(100000), { value: 100000 });
  const hv = tuningHypervisor();
  // vdsm's policy multiplies the period when the quota would be under 1 ms: 100000 * 11.
  const out = await reconcile({ a: { quota: -1, period: 100000, wantPeriod: 1_100_000n } }, hv);
  assert.deepEqual(brief(out), [['vcpu_period', 'applied', 100000, 1_000_000]]);
  assert.match(out[0]?.reason ?? '', /clamped from 1100000/);
  assert.deepEqual(hv.cpuTuneCalls, [{ id: 'id-a', settings: { period: 1_000_000 } }]);
});

test('skipped with the reason: no cpu-tune capability, a nil current value, a guest gone', async () => {
  const bare = new FakeHypervisor();
  const none = await reconcile({ a: { quota: -1, period: 100000, wantQuota: 5000n } }, bare);
  assert.deepEqual(
    none.map((o) => [o.outcome, o.reason]),
    [['skipped', 'the hypervisor backend cannot do cpu-tune']],
  );
  const unknown = await reconcile({
    a: { quota: null, period: null, wantQuota: 5000n, wantPeriod: 100000n },
  });
  assert.deepEqual(
    unknown.map((o) => o.outcome),
    ['skipped', 'skipped'],
  );
  assert.match(unknown[0]?.reason ?? '', /nil/);
  const hv = tuningHypervisor();
  const gone = await createCpuTuneController().reconcile(
    controlContext({
      entities: entities({ a: { quota: -1, period: 100000, wantQuota: 5000n } }),
      hypervisor: hv,
      guests: [],
    }),
  );
  assert.deepEqual(
    gone.map((o) => [o.outcome, o.reason]),
    [['skipped', 'guest gone']],
  );
});

test('a refusal fails every control of that call with its code; unsupported is a skip; a non-number is a failure', async () => {
  const hv = tuningHypervisor();
  hv.failWith = new HypervisorError('MOM_E_INVALID_ARGUMENT', 'value out of range');
  const out = await reconcile({ a: { quota: -1, period: 100000, wantQuota: 5000n, wantPeriod: 50000n } }, hv);
  assert.deepEqual(
    out.map((o) => [o.control, o.outcome]),
    [
      ['vcpu_quota', 'failed'],
      ['vcpu_period', 'failed'],
    ],
  );
  assert.match(out[0]?.reason ?? '', /^MOM_E_INVALID_ARGUMENT: value out of range/);
  hv.failWith = new HypervisorError('MOM_E_UNSUPPORTED', 'process 7 is in the root CPU cgroup');
  const skipped = await reconcile({ a: { quota: -1, period: 100000, wantQuota: 5000n } }, hv);
  assert.equal(skipped[0]?.outcome, 'skipped');
  const bad = await reconcile({ a: { quota: -1, period: 100000, wantQuota: 'half' } });
  assert.deepEqual(
    bad.map((o) => [o.outcome, o.reason]),
    [['failed', 'vcpu_quota: expected a number, got a string']],
  );
});
