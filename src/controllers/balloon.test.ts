import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeHost, FakeHypervisor } from '../../test/support/fakes.js';
import { buildEntities, type Entities } from '../entities/snapshot.js';
import { HypervisorError } from '../hypervisors/hypervisor.js';
import type { Value } from '../policy/values.js';
import { createBalloonController } from './balloon.js';

function entities(
  guests: Record<string, { cur: number; max: number; min?: number; target?: Value }>,
): Entities {
  const e = buildEntities({
    fields: { host: ['mem_free'], guest: ['balloon_cur', 'balloon_max', 'balloon_min'] },
    host: { properties: {}, stats: [{ mem_free: 1 }] },
    guests: Object.entries(guests).map(([name, g]) => ({
      properties: { name },
      stats: [{ balloon_cur: g.cur, balloon_max: g.max, balloon_min: g.min ?? null }],
    })),
  });
  for (const g of e.guests) {
    const t = guests[String(g.properties['name'])]?.target;
    if (t !== undefined) g.controls.set('balloon_target', t);
  }
  return e;
}
const ids = (...names: string[]): Map<string, string> => new Map(names.map((n) => [n, `id-${n}`]));

test('applies the target truncated toward zero, once; the same target again is unchanged', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  const c = createBalloonController();
  const ctx = { guestIds: ids('a'), hypervisor: hv, host: new FakeHost() };
  const first = await c.reconcile({
    ...ctx,
    entities: entities({ a: { cur: 1000, max: 2000, target: 900.9 } }),
  });
  assert.deepEqual(
    first.map((o) => [o.outcome, o.old, o.new]),
    [['applied', 1000, 900]],
  );
  assert.deepEqual(hv.calls, [{ id: 'id-a', kib: 900 }]);
  // The balloon has not reached 900 yet (cur still 950): asking for 900 again sends nothing.
  const again = await c.reconcile({
    ...ctx,
    entities: entities({ a: { cur: 950, max: 2000, target: 900n } }),
  });
  assert.equal(again[0]?.outcome, 'unchanged');
  assert.equal(hv.calls.length, 1);
});

test('a target equal to the current size with no earlier target is unchanged', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  const out = await createBalloonController().reconcile({
    guestIds: ids('a'),
    hypervisor: hv,
    host: new FakeHost(),
    entities: entities({ a: { cur: 1000, max: 2000, target: 1000.4 } }),
  });
  assert.equal(out[0]?.outcome, 'unchanged');
  assert.equal(hv.calls.length, 0);
});

test('targets are clamped to [balloon_min, balloon_max]', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  hv.add('b');
  const out = await createBalloonController().reconcile({
    guestIds: ids('a', 'b'),
    hypervisor: hv,
    host: new FakeHost(),
    entities: entities({
      a: { cur: 1000, max: 2000, min: 500, target: 10 },
      b: { cur: 1000, max: 2000, target: 99999 },
    }),
  });
  assert.deepEqual(
    hv.calls.map((c) => c.kib),
    [500, 2000],
  );
  assert.match(out[0]?.reason ?? '', /clamped from 10/);
});

test('a guest that vanished is skipped; other hypervisor errors fail; a bad value fails', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  const host = new FakeHost();
  const c = createBalloonController();
  const gone = await c.reconcile({
    guestIds: ids('b'),
    hypervisor: hv,
    host,
    entities: entities({ b: { cur: 1, max: 9, target: 5 } }),
  });
  assert.equal(gone[0]?.outcome, 'skipped');
  hv.failWith = new HypervisorError('timeout', 'no reply');
  const failed = await c.reconcile({
    guestIds: ids('a'),
    hypervisor: hv,
    host,
    entities: entities({ a: { cur: 1, max: 9, target: 5 } }),
  });
  assert.deepEqual([failed[0]?.outcome, failed[0]?.reason], ['failed', 'timeout: no reply']);
  const bad = await c.reconcile({
    guestIds: ids('a'),
    hypervisor: hv,
    host,
    entities: entities({ a: { cur: 1, max: 9, target: 'big' } }),
  });
  assert.equal(bad[0]?.outcome, 'failed');
  assert.match(bad[0]?.reason ?? '', /expected a number/);
});
