import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlContext, FakeHost } from '../../test/support/fakes.js';
import { buildEntities } from '../entities/snapshot.js';
import type { Value } from '../policy/values.js';
import { createKsmController } from './ksm.js';

function run(controls: Record<string, Value>, host = new FakeHost()) {
  const entities = buildEntities({
    host: {
      properties: {},
      stats: [{ ksm_run: 0, ksm_pages_to_scan: 100, ksm_sleep_millisecs: 20, ksm_merge_across_nodes: 1 }],
    },
    guests: [],
  });
  for (const [k, v] of Object.entries(controls)) entities.host.controls.set(k, v);
  return {
    host,
    result: createKsmController().reconcile(
      controlContext({ entities, host, capabilities: { host: host.probeResult } }),
    ),
  };
}

test('only the knobs that differ from the newest sample are written, in one call', async () => {
  const { host, result } = run({ ksm_run: 1n, ksm_pages_to_scan: 100n, ksm_sleep_millisecs: 10.7 });
  const outcomes = await result;
  assert.deepEqual(host.ksmWrites, [{ run: 1, sleepMillisecs: 10 }]);
  assert.deepEqual(
    outcomes.map((o) => [o.control, o.outcome]),
    [
      ['ksm_pages_to_scan', 'unchanged'],
      ['ksm_run', 'applied'],
      ['ksm_sleep_millisecs', 'applied'],
    ],
  );
});

test('nothing to change writes nothing', async () => {
  const { host, result } = run({ ksm_run: 0n, ksm_merge_across_nodes: 1n });
  await result;
  assert.deepEqual(host.ksmWrites, []);
});

test('out-of-range and non-numeric values fail without being written', async () => {
  const { host, result } = run({ ksm_run: 7n, ksm_pages_to_scan: 'lots' });
  const outcomes = await result;
  assert.deepEqual(host.ksmWrites, []);
  assert.deepEqual(
    outcomes.map((o) => o.outcome),
    ['failed', 'failed'],
  );
  assert.match(outcomes[0]?.reason ?? '', /ksm_run: 7 is out of range: expected 0, 1 or 2/);
});

test('on a host without KSM every KSM control is skipped, saying why; nothing is written', async () => {
  const host = new FakeHost();
  host.probeResult = { capabilities: new Set(['psi']), missing: new Map([['ksm', 'no /sys/kernel/mm/ksm']]) };
  const { result } = run({ ksm_run: 1n, ksm_pages_to_scan: 300n }, host);
  const outcomes = await result;
  assert.deepEqual(host.ksmWrites, []);
  assert.deepEqual(
    outcomes.map((o) => [o.control, o.outcome, o.reason]),
    [
      ['ksm_run', 'skipped', 'no /sys/kernel/mm/ksm'],
      ['ksm_pages_to_scan', 'skipped', 'no /sys/kernel/mm/ksm'],
    ],
  );
});
