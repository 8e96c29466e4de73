import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot } from '../entities/snapshot.js';
import { fallbackEntities, PolicyFailures } from './fallback.js';

test('the fallback starts at the configured failure in a row and a good evaluation ends it', () => {
  const f = new PolicyFailures({ afterCycles: 3, stepFraction: 0.05 });
  assert.deepEqual([f.failed(10), f.failed(20)], [null, null]);
  assert.equal(f.active, false);
  assert.equal(f.failed(30), 'entered');
  assert.deepEqual(f.state, { failures: 3, since: 30 });
  assert.equal(f.failed(40), null);
  assert.deepEqual(f.state, { failures: 4, since: 30 });
  assert.equal(f.succeeded(), 'left');
  assert.deepEqual(f.state, { failures: 0, since: null });
  assert.equal(f.succeeded(), null);
});

test('a good evaluation between failures starts the count again', () => {
  const f = new PolicyFailures({ afterCycles: 2, stepFraction: 0.05 });
  f.failed(1);
  f.succeeded();
  assert.equal(f.failed(2), null);
  assert.equal(f.failed(3), 'entered');
});

test('afterCycles 0 never falls back', () => {
  const f = new PolicyFailures({ afterCycles: 0, stepFraction: 0.05 });
  for (let i = 0; i < 100; i++) assert.equal(f.failed(i), null);
  assert.equal(f.active, false);
  assert.equal(f.state.failures, 100);
});

test('fallback controls grow each balloon by a step of its maximum, never past it, never down', () => {
  const guest = (name: string, cur: number | null, max: number | null) => ({
    properties: { name },
    stats: [{ balloon_cur: cur, balloon_max: max }],
  });
  const snapshot: Snapshot = {
    host: { properties: {}, stats: [{ mem_available: 1 }] },
    guests: [
      guest('squeezed', 500_000, 1_000_000),
      guest('near-max', 980_000, 1_000_000),
      guest('full', 1_000_000, 1_000_000),
      guest('unknown', null, 1_000_000),
    ],
  };
  const e = fallbackEntities(snapshot, { afterCycles: 3, stepFraction: 0.05 }, 'why');
  const target = (i: number) => e.guests[i]?.controls.get('balloon_target');
  assert.deepEqual([target(0), target(1), target(2), target(3)], [550_000, 1_000_000, undefined, undefined]);
  assert.equal(e.guests[0]?.reasons.get('balloon_target'), 'why');
  assert.equal(e.host.controls.size, 0);
});
