import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleGuest, tinyScenario } from '../../test/support/sim-testkit.js';
import { createSimulation } from '../sim/index.js';
import { deflateAll } from './deflate.js';
import { HypervisorError, type Hypervisor } from './hypervisor.js';
import { createSimulatedBackend } from './simulated/index.js';

test('every balloon under its maximum goes back to it; one at its maximum is left alone', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a'), idleGuest('b'), idleGuest('c')]));
  const { hypervisor } = createSimulatedBackend(sim);
  const [a, b] = await hypervisor.listGuests();
  assert.ok(a && b);
  await hypervisor.setBalloonTarget(a.id, 600 * 1024);
  await hypervisor.setBalloonTarget(b.id, 800 * 1024);
  sim.advance(30);
  const result = await deflateAll(hypervisor);
  assert.deepEqual(
    result.deflated.map((d) => [d.name, d.to]),
    [
      ['a', 1024 * 1024],
      ['b', 1024 * 1024],
    ],
  );
  assert.ok(result.deflated.every((d) => d.from < d.to));
  assert.deepEqual(result.untouched, ['c']);
  assert.deepEqual(result.failed, []);
  sim.advance(60);
  const after = await hypervisor.guestStats([a.id, b.id]);
  for (const r of after.values()) assert.ok(!(r instanceof Error) && r.balloon_cur === 1024 * 1024);
});

test('a guest that cannot be deflated is reported and the others still are', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a'), idleGuest('b')]));
  const ports = createSimulatedBackend(sim);
  const [a, b] = await ports.hypervisor.listGuests();
  assert.ok(a && b);
  await ports.hypervisor.setBalloonTarget(a.id, 600 * 1024);
  await ports.hypervisor.setBalloonTarget(b.id, 600 * 1024);
  sim.advance(30);
  const hypervisor: Hypervisor = {
    ...ports.hypervisor,
    listGuests: (s) => ports.hypervisor.listGuests(s),
    guestStats: (ids, s) => ports.hypervisor.guestStats(ids, s),
    setBalloonTarget: (id, kib, s) =>
      id === a.id
        ? Promise.reject(new HypervisorError('MOM_E_TRANSPORT', 'QMP: connection reset'))
        : ports.hypervisor.setBalloonTarget(id, kib, s),
  };
  const result = await deflateAll(hypervisor);
  assert.deepEqual(result.failed, [{ name: 'a', error: 'QMP: connection reset' }]);
  assert.deepEqual(
    result.deflated.map((d) => d.name),
    ['b'],
  );
});
