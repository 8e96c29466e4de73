// Applies the zswap controls (zswap_enabled, zswap_max_pool_percent) to the host, writing only
// the knobs whose value differs from the newest host sample (level-based: a knob changed behind
// momd's back is written again). zswap is machine-wide, so the controller acts only where the
// configuration says momd owns it (zswap-owned, seen in the snapshot as Host.Prop "zswap_owned");
// elsewhere, and on a host without zswap, every control is skipped, saying why. Putting the
// knobs back as found (exit, or a reload that gives zswap up) is the daemon's, not a cycle's.
import type { ZswapSettings } from '../hypervisors/host.js';
import {
  controlInteger,
  missingCapability,
  numberOrNull,
  type Controller,
  type Outcome,
} from './controller.js';

const KNOBS: ReadonlyArray<{
  control: string;
  setting: keyof ZswapSettings;
  valid: (n: number) => boolean;
  expect: string;
}> = [
  { control: 'zswap_enabled', setting: 'enabled', valid: (n) => n === 0 || n === 1, expect: '0 or 1' },
  {
    control: 'zswap_max_pool_percent',
    setting: 'maxPoolPercent',
    valid: (n) => n >= 0 && n <= 100,
    expect: 'a percent from 0 to 100',
  },
];

export const NOT_OWNED =
  'momd does not own zswap, which is machine-wide (set zswap-owned: true in [main] to let it)';

export function createZswapController(): Controller {
  const controller: Controller = {
    name: 'Zswap',
    controls: KNOBS.map((k) => k.control),
    needs: { host: ['zswap_enabled', 'zswap_max_pool_percent'] },
    requires: { host: ['zswap'] },
    async reconcile(ctx) {
      const { entities, host, signal } = ctx;
      // Not owned is said first: on a host momd must leave alone, whether zswap exists is moot.
      const owned = entities.host.properties['zswap_owned'];
      const cannot =
        owned === true || owned === 1 ? missingCapability(controller, ctx.capabilities) : NOT_OWNED;
      const outcomes: Outcome[] = [];
      const changes: { -readonly [K in keyof ZswapSettings]?: number } = {};
      const pending: Outcome[] = [];
      for (const knob of KNOBS) {
        if (!entities.host.controls.has(knob.control)) continue;
        const base = { controller: 'Zswap', entity: 'host', control: knob.control } as const;
        const cur = numberOrNull(entities.host.getAttribute(knob.control));
        const want = controlInteger(entities.host.controls.get(knob.control) ?? null);
        if (cannot !== undefined) {
          outcomes.push({
            ...base,
            outcome: 'skipped',
            old: cur,
            new: typeof want === 'number' ? want : null,
            reason: cannot,
          });
          continue;
        }
        if (typeof want === 'string' || !knob.valid(want)) {
          const reason = typeof want === 'string' ? want : `${want} is out of range: expected ${knob.expect}`;
          outcomes.push({
            ...base,
            outcome: 'failed',
            old: cur,
            new: null,
            reason: `${knob.control}: ${reason}`,
          });
          continue;
        }
        if (want === cur) {
          outcomes.push({ ...base, outcome: 'unchanged', old: cur, new: want });
          continue;
        }
        changes[knob.setting] = want;
        const why = entities.host.reasons.get(knob.control);
        pending.push({ ...base, outcome: 'applied', old: cur, new: want, ...(why ? { reason: why } : {}) });
      }
      if (pending.length === 0) return outcomes;
      try {
        await host.setZswap(changes, signal);
        return [...outcomes, ...pending];
      } catch (err) {
        const reason = (err as Error).message;
        return [...outcomes, ...pending.map((p) => ({ ...p, outcome: 'failed' as const, reason }))];
      }
    },
  };
  return controller;
}
