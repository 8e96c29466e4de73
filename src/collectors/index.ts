// Every collector, by MOM's name. A plain list: adding one is adding a line here.
import type { CollectorSpec, GuestCollectorSpec, HostCollectorSpec } from './collector.js';
import { guestBalloon } from './guest-balloon.js';
import { guestMemory } from './guest-memory.js';
import { guestQemuProc } from './guest-qemu-proc.js';
import { hostKsm } from './host-ksm.js';
import { hostMemory } from './host-memory.js';
import { hostPressure } from './host-pressure.js';

export const collectors: readonly CollectorSpec[] = [
  hostMemory,
  hostKsm,
  hostPressure,
  guestQemuProc,
  guestMemory,
  guestBalloon,
];

export class UnknownCollectorError extends Error {}

/** The specs for configured names, in order; an unknown or wrong-scope name is an error naming it. */
export function resolveCollectors(scope: 'host', names: readonly string[]): HostCollectorSpec[];
export function resolveCollectors(scope: 'guest', names: readonly string[]): GuestCollectorSpec[];
export function resolveCollectors(scope: 'host' | 'guest', names: readonly string[]): CollectorSpec[] {
  return names.map((name) => {
    const spec = collectors.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (spec === undefined || spec.scope !== scope) {
      const known = collectors.filter((c) => c.scope === scope).map((c) => c.name);
      throw new UnknownCollectorError(`unknown ${scope} collector '${name}' (known: ${known.join(', ')})`);
    }
    return spec;
  });
}
