// zswap on this machine: the Zswap controller turns it on through the real
// /sys/module/zswap/parameters, and the restore momd does at exit puts it back as found. No
// guests. zswap is machine-wide, so the test keeps it changed for a moment only (asserted under
// 2 s) and, whatever happens, writes the knobs back itself at the end. Skipped locally without
// root or a writable zswap; in CI (CI=true) a missing prerequisite fails instead.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createZswapController } from '../../src/controllers/zswap.js';
import { buildEntities } from '../../src/entities/snapshot.js';
import { createLinuxHost } from '../../src/hypervisors/linux/index.js';
import { controlContext } from '../support/fakes.js';
import { requireAvailable, skipUnless, zswapWritable } from './support/skip.js';

const DIR = '/sys/module/zswap/parameters';
// The pool size before enabled: putting zswap back on (if it was on) comes last.
const KNOBS = ['max_pool_percent', 'enabled'] as const;
type Knobs = Record<(typeof KNOBS)[number], string>;
const available = zswapWritable(DIR);

const readKnobs = (): Knobs => ({
  max_pool_percent: readFileSync(join(DIR, 'max_pool_percent'), 'utf8').trim(),
  enabled: readFileSync(join(DIR, 'enabled'), 'utf8').trim(),
});

describe('zswap on this machine (real /sys/module/zswap)', { skip: skipUnless(available) }, () => {
  let found: Knobs | undefined;

  before(() => {
    requireAvailable(available);
    found = readKnobs();
  });

  after(() => {
    // The safety net: the machine's zswap as found, even if the test failed half-way.
    if (found === undefined) return;
    const now = readKnobs();
    for (const k of KNOBS) if (now[k] !== found[k]) writeFileSync(join(DIR, k), found[k]);
  });

  test('the Zswap controller turns zswap on (a new pool size first); the restore puts both knobs back within 2 s', async () => {
    assert.ok(found);
    const host = createLinuxHost();
    const probe = await host.probe(); // records the settings found at start, as momd does
    assert.ok(probe.capabilities.has('zswap'), probe.missing.get('zswap'));
    const sample = await host.read(new Set(['HostMemory']));
    assert.equal(sample.zswap_max_pool_percent, Number(found.max_pool_percent));
    // zswap on (off where it is on already, so that the test changes something either way), and
    // a pool size other than the one found.
    const enabled = found.enabled === 'Y' ? 0 : 1;
    const pct = found.max_pool_percent === '10' ? 11 : 10;
    const entities = buildEntities({
      host: { properties: { zswap_owned: true }, stats: [sample] },
      guests: [],
    });
    entities.host.controls.set('zswap_enabled', BigInt(enabled));
    entities.host.controls.set('zswap_max_pool_percent', BigInt(pct));

    const changedAt = performance.now();
    const outcomes = await createZswapController().reconcile(
      controlContext({ entities, host, capabilities: { host: probe } }),
    );
    const during = readKnobs();
    const back = await host.restoreZswap();
    const restoredAfterMs = performance.now() - changedAt;
    const after = readKnobs();
    await host.close();

    assert.deepEqual(
      outcomes.map((o) => [o.control, o.outcome, o.new]),
      [
        ['zswap_enabled', 'applied', enabled],
        ['zswap_max_pool_percent', 'applied', pct],
      ],
      JSON.stringify(outcomes),
    );
    assert.deepEqual(during, { max_pool_percent: String(pct), enabled: enabled === 1 ? 'Y' : 'N' });
    assert.deepEqual(back, {
      enabled: found.enabled === 'Y' ? 1 : 0,
      maxPoolPercent: Number(found.max_pool_percent),
    });
    assert.deepEqual(after, found, 'restored as found');
    assert.ok(restoredAfterMs < 2000, `zswap was left changed for ${Math.round(restoredAfterMs)} ms`);
  });
});
