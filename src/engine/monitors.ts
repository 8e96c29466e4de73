// Monitors: one for the host, one per guest. Each runs its collectors, merges their fields into
// one sample and appends it to a bounded history. A sample missing a mandatory field makes the
// entity not ready (a not-ready guest is left out of Guests; a not-ready host skips the cycle).
import type { Logger } from 'pino';
import type {
  Fields,
  GuestCollector,
  GuestCollectorContext,
  GuestCollectorSpec,
  HostCollector,
  HostCollectorSpec,
} from '../collectors/collector.js';
import type { Sample, Scalar } from '../entities/entity.js';
import type { GuestInfo, GuestMemoryStats } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';
import { History } from './history.js';

/** Field names a set of collectors declares, split into mandatory and optional. */
export function declaredFields(specs: readonly (HostCollectorSpec | GuestCollectorSpec)[]): {
  mandatory: string[];
  optional: string[];
} {
  return {
    mandatory: specs.flatMap((s) => Object.keys(s.fields)),
    optional: specs.flatMap((s) => Object.keys(s.optionalFields)),
  };
}

abstract class Monitor {
  readonly history: History;
  private ready = false;
  private lastProblem: string | undefined;

  constructor(
    protected readonly label: string,
    private readonly fields: { mandatory: string[]; optional: string[] },
    historyLength: number,
    protected readonly log: Logger,
  ) {
    this.history = new History(historyLength);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Appends a sample built from the collectors' fields; returns whether the entity is ready. */
  protected record(parts: readonly Fields[], failures: readonly string[]): boolean {
    const sample: Record<string, Scalar> = {};
    for (const f of this.fields.optional) sample[f] = null;
    for (const part of parts) Object.assign(sample, part);
    const missing = this.fields.mandatory.filter((f) => sample[f] === null || sample[f] === undefined);
    this.ready = missing.length === 0 && failures.length === 0;
    if (this.ready) this.history.push(sample as Sample);
    const problem = this.ready
      ? undefined
      : [...failures, ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : [])].join('; ');
    // Log a change of state once, not every cycle.
    if (problem !== this.lastProblem) {
      if (problem === undefined) this.log.info({ entity: this.label }, 'entity ready');
      else this.log.warn({ entity: this.label, problem }, 'entity not ready');
      this.lastProblem = problem;
    }
    return this.ready;
  }
}

export class HostMonitor extends Monitor {
  private readonly collectors: { name: string; collector: HostCollector }[];

  constructor(specs: readonly HostCollectorSpec[], host: HostSource, historyLength: number, log: Logger) {
    super('host', declaredFields(specs), historyLength, log);
    this.collectors = specs.map((s) => ({ name: s.name, collector: s.create({ host }) }));
  }

  async collect(signal?: AbortSignal): Promise<boolean> {
    const parts: Fields[] = [];
    const failures: string[] = [];
    for (const { name, collector } of this.collectors) {
      try {
        parts.push(await collector.collect(signal));
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
      }
    }
    return this.record(parts, failures);
  }
}

export class GuestMonitor extends Monitor {
  private readonly collectors: GuestCollector[];

  constructor(
    readonly guest: GuestInfo,
    specs: readonly GuestCollectorSpec[],
    historyLength: number,
    log: Logger,
    ctx: GuestCollectorContext = {},
  ) {
    super(guest.name, declaredFields(specs), historyLength, log);
    this.collectors = specs.map((s) => s.create(ctx));
  }

  /** Records this guest's part of the cycle's bulk statistics. */
  collect(stats: GuestMemoryStats): boolean {
    return this.record(
      this.collectors.map((c) => c.collect(this.guest, stats)),
      [],
    );
  }
}
