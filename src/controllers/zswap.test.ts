import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlContext, FakeHost } from '../../test/support/fakes.js';
import { buildEntities } from '../entities/snapshot.js';
import { HypervisorError } from '../hypervisors/hypervisor.js';
import type { Value } from '../policy/values.js';
import { createZswapController, NOT_OWNED } from './zswap.js';

function run(
  controls: Record<string, Value>,
  opts: { host?: FakeHost; owned?: unknown; reasons?: Record<string, string> } = {},
) {
  const host = opts.host ?? new FakeHost();
  const entities = buildEntities({
    host: {
      properties: 'owned' in opts ? { zswap_owned: opts.owned } : { zswap_owned: true },
      stats: [{ zswap_enabled: 0, zswap_max_pool_percent: 20 }],
    },
    guests: [],
  });
  for (const [k, v] of Object.entries(controls)) entities.host.control(k, v, opts.reasons?.[k]);
  return {
    host,
    result: createZswapController().reconcile(
      controlContext({ entities, host, capabilities: { host: host.probeResult } }),
    ),
  };
}

test('owned: only the knobs that differ from the newest sample are written, in one call, with the reason', async () => {
  const { host, result } = run(
    { zswap_enabled: 1n, zswap_max_pool_percent: 20n },
    { reasons: { zswap_enabled: 'host swapping out: compress before disk' } },
  );
  const outcomes = await result;
  assert.deepEqual(host.zswapWrites, [{ enabled: 1 }]);
  assert.deepEqual(
    outcomes.map((o) => [o.control, o.outcome, o.old, o.new, o.reason]),
    [
      ['zswap_max_pool_percent', 'unchanged', 20, 20, undefined],
      ['zswap_enabled', 'applied', 0, 1, 'host swapping out: compress before disk'],
    ],
  );
});

test('nothing to change writes nothing; a float percent is truncated as MOM does', async () => {
  const same = run({ zswap_enabled: 0n, zswap_max_pool_percent: 20.9 });
  assert.deepEqual(
    (await same.result).map((o) => o.outcome),
    ['unchanged', 'unchanged'],
  );
  assert.deepEqual(same.host.zswapWrites, []);
  const both = run({ zswap_enabled: true, zswap_max_pool_percent: 12.5 });
  await both.result;
  assert.deepEqual(both.host.zswapWrites, [{ enabled: 1, maxPoolPercent: 12 }]);
});

test('not owned: every zswap control is skipped with the reason, whatever the host has; nothing is written', async () => {
  for (const owned of [false, 0, undefined, 'yes']) {
    const { host, result } = run({ zswap_enabled: 1n, zswap_max_pool_percent: 30n }, { owned });
    const outcomes = await result;
    assert.deepEqual(host.zswapWrites, [], String(owned));
    assert.deepEqual(
      outcomes.map((o) => [o.control, o.outcome, o.old, o.new, o.reason]),
      [
        ['zswap_enabled', 'skipped', 0, 1, NOT_OWNED],
        ['zswap_max_pool_percent', 'skipped', 20, 30, NOT_OWNED],
      ],
    );
  }
  assert.match(NOT_OWNED, /zswap-owned: true/);
});

test('owned on a host without zswap: skipped with the reason the probe gave', async () => {
  const host = new FakeHost();
  host.probeResult = {
    capabilities: new Set(['ksm']),
    missing: new Map([['zswap', 'no /sys/module/zswap']]),
  };
  const { result } = run({ zswap_enabled: 1n }, { host });
  assert.deepEqual(
    (await result).map((o) => [o.outcome, o.reason]),
    [['skipped', 'no /sys/module/zswap']],
  );
  assert.deepEqual(host.zswapWrites, []);
});

test('out-of-range and non-numeric values fail without being written', async () => {
  const { host, result } = run({ zswap_enabled: 2n, zswap_max_pool_percent: 'big' });
  const outcomes = await result;
  assert.deepEqual(host.zswapWrites, []);
  assert.deepEqual(
    outcomes.map((o) => o.outcome),
    ['failed', 'failed'],
  );
  assert.match(outcomes[0]?.reason ?? '', /zswap_enabled: 2 is out of range: expected 0 or 1/);
  const over = await run({ zswap_max_pool_percent: 101n }).result;
  assert.match(over[0]?.reason ?? '', /expected a percent from 0 to 100/);
});

test('a refused write fails the pending controls with the backend message; the next cycle tries again', async () => {
  const host = new FakeHost();
  host.failWith = new HypervisorError('MOM_E_UNSUPPORTED', 'no zswap here after all');
  const { result } = run({ zswap_enabled: 1n, zswap_max_pool_percent: 10n }, { host });
  assert.deepEqual(
    (await result).map((o) => [o.control, o.outcome, o.reason]),
    [
      ['zswap_enabled', 'failed', 'no zswap here after all'],
      ['zswap_max_pool_percent', 'failed', 'no zswap here after all'],
    ],
  );
});

test('a policy that sets no zswap control gets no outcome', async () => {
  assert.deepEqual(await run({}).result, []);
});
