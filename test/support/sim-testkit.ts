// Helpers for the simulator's tests: small inline scenarios and hand-set guest states.
import { SimGuest, type StepContext, type StepReport } from '../../src/sim/guest.js';
import { Rng } from '../../src/sim/random.js';
import { parseScenario, type Scenario, type ScenarioInput } from '../../src/sim/scenario.js';

export const MIB = 1024;
export const GIB = 1024 * 1024;

type GuestInput = ScenarioInput['guests'][number];

/** A scenario with one host of `memory_gib` and the given guests; `extra` overrides top-level keys. */
export function tinyScenario(guests: GuestInput[], extra: Partial<ScenarioInput> = {}): Scenario {
  return parseScenario(
    { duration_s: 600, host: { memory_gib: 8, swap_gib: 4 }, guests, ...extra },
    'test.yaml',
  );
}

export const idleGuest = (name: string, extra: Partial<GuestInput> = {}): GuestInput => ({
  name,
  memory_mib: 1024,
  workload: { kind: 'idle', touch_mib: 300, keep_mib: 100, boot_s: 5 },
  ...extra,
});

/** The scenario's first guest as a model object, booted at t = 0. */
export function bootedGuest(scenario: Scenario): SimGuest {
  const spec = scenario.guests[0];
  if (spec === undefined) throw new Error('no guest');
  const g = new SimGuest(spec, 'id-0', scenario, new Rng(1));
  g.boot(0);
  return g;
}

/** Sets a guest's memory by category (MiB); free memory takes the rest, resident on the host. */
export function setMemory(
  g: SimGuest,
  mib: Partial<
    Record<'hotR' | 'hotH' | 'coldR' | 'coldH' | 'cacheR' | 'cacheH' | 'swapHot' | 'swapCold', number>
  >,
): void {
  g.hotR = (mib.hotR ?? 0) * MIB;
  g.hotH = (mib.hotH ?? 0) * MIB;
  g.coldR = (mib.coldR ?? 0) * MIB;
  g.coldH = (mib.coldH ?? 0) * MIB;
  g.cacheR = (mib.cacheR ?? 0) * MIB;
  g.cacheH = (mib.cacheH ?? 0) * MIB;
  g.swapHot = (mib.swapHot ?? 0) * MIB;
  g.swapCold = (mib.swapCold ?? 0) * MIB;
  const used = g.kernel + g.hotR + g.hotH + g.coldR + g.coldH + g.cacheR + g.cacheH;
  g.freeU = 0;
  g.freeH = 0;
  g.freeR = g.cur - used;
  if (g.freeR < 0) throw new Error('more memory set than the guest has');
}

export function context(extra: Partial<StepContext> = {}): StepContext {
  return {
    now: 100,
    dt: 1,
    cpuShare: 1,
    hostSwapInS: 1e-3,
    guestSwapInS: 0.25e-3,
    diskReadS: 1e-3,
    freshPageS: 2e-6,
    ...extra,
  };
}

export function emptyReport(): StepReport {
  return { cpuDemand: 0, hostStallS: 0, swapStallS: 0, hostSwapInPages: 0, storageOps: 0, throughput: 0 };
}

/** Rounds KiB to MiB for readable assertions. */
export const toMib = (kib: number): number => Math.round(kib / MIB);
