// What a collector is: a small module that turns one source (the host interface, or the bulk
// guest statistics of the hypervisor) into named fields of a Sample. Mandatory fields missing from
// a reading make the entity not ready; optional ones are null.
import type { Scalar } from '../entities/entity.js';
import type { GuestInfo, GuestMemoryStats } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';

export interface FieldDoc {
  readonly unit: 'KiB' | 'pages' | 'count' | 'ms' | 's' | 'percent' | 'enum' | 'bool';
  readonly help: string;
}

export type Fields = Readonly<Record<string, Scalar>>;

export interface HostCollector {
  /** One reading. Throws on failure; the monitor logs it and marks the host not ready this time. */
  collect(signal?: AbortSignal): Promise<Fields>;
}

export interface GuestCollector {
  /** Maps this guest's part of the cycle's bulk statistics to fields; never does I/O of its own. */
  collect(guest: GuestInfo, stats: GuestMemoryStats): Fields;
}

interface SpecBase {
  /** MOM's collector name, so an existing mom.conf keeps working. */
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldDoc>>;
  readonly optionalFields: Readonly<Record<string, FieldDoc>>;
}
export interface HostCollectorSpec extends SpecBase {
  readonly scope: 'host';
  create(ctx: { host: HostSource }): HostCollector;
}
/** What a guest collector may consult besides the bulk statistics. */
export interface GuestCollectorContext {
  /** Balloons that do not move toward their target (engine state), when the engine has one. */
  readonly balloonWatch?: { observe(id: string, name: string, cur: number | null): number };
}
export interface GuestCollectorSpec extends SpecBase {
  readonly scope: 'guest';
  create(ctx: GuestCollectorContext): GuestCollector;
}
export type CollectorSpec = HostCollectorSpec | GuestCollectorSpec;

/** Turns a cumulative counter into "since the last reading" (0 on the first reading or a reset). */
export class CounterDelta {
  private last: number | undefined;
  next(value: number | null): number | null {
    if (value === null) return null;
    const prev = this.last;
    this.last = value;
    if (prev === undefined || value < prev) return 0;
    return value - prev;
  }
}
