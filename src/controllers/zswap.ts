// Applies the zswap controls (zswap_enabled, zswap_max_pool_percent) to the host, writing only
// the knobs whose value differs from the newest host sample (level-based: a knob changed behind
// momd's back is written again). zswap is machine-wide, so the controller acts only where the
// configuration says momd owns it (zswap-owned, seen in the snapshot as Host.Prop "zswap_owned");
// elsewhere, and on a host without zswap, every control is skipped, saying why. Putting the
// knobs back as found (exit, or a reload that gives zswap up) is the daemon's, not a cycle's.
import type { ZswapSettings } from '../hypervisors/host.js';
import { missingCapability, type Controller } from './controller.js';
import { reconcileHostKnobs, type HostKnob } from './host-knobs.js';

const KNOBS: ReadonlyArray<HostKnob<keyof ZswapSettings>> = [
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
      // Not owned is said first: on a host momd must leave alone, whether zswap exists is moot.
      const owned = ctx.entities.host.properties['zswap_owned'];
      const cannot =
        owned === true || owned === 1 ? missingCapability(controller, ctx.capabilities) : NOT_OWNED;
      return reconcileHostKnobs(ctx, 'Zswap', KNOBS, cannot, (changes, signal) =>
        ctx.host.setZswap(changes, signal),
      );
    },
  };
  return controller;
}
