// io_tune as a policy sees it: a list of MOM's IoTune objects, one per disk, with `name`, `path`
// and three sets of limits, `guaranteed`, `maximum` and `current`, whose six keys read as numbers
// (nil when not set), and MOM's setters (`tune.setTotalBytesSec` ...). A setter changes the
// disk's `current` (as in MOM) and makes the whole list the guest's io_tune control, as
// (guest.Control "io_tune" LIST) would; the IoTune controller then applies what differs.
//
// Tolerance, on purpose: in MOM a disk whose `maximum` lacks a key fails the whole evaluation when
// a policy reads that key (vdsm's 05-iotune reads all six); here such a key reads as nil, and a
// setter given nil leaves that limit as it is.
import { IO_TUNE_KEYS, type IoTuneDisk, type IoTuneKey } from '../fields/io-tune.js';
import {
  typeName,
  ValueError,
  type Json,
  type PolicyFunction,
  type PolicyObject,
  type Value,
} from '../policy/values.js';

/** MOM's setter of each key. */
export const IO_TUNE_SETTERS: Readonly<Record<string, IoTuneKey>> = {
  setTotalBytesSec: 'total_bytes_sec',
  setReadBytesSec: 'read_bytes_sec',
  setWriteBytesSec: 'write_bytes_sec',
  setTotalIopsSec: 'total_iops_sec',
  setReadIopsSec: 'read_iops_sec',
  setWriteIopsSec: 'write_iops_sec',
};

const KEYS: ReadonlySet<string> = new Set(IO_TUNE_KEYS);

/** Limits keyed by the six names; a missing key reads as nil (never "undefined symbol"). */
class Limits implements PolicyObject {
  readonly kind = 'object';
  constructor(
    private readonly owner: IoTuneEntry,
    private readonly part: string,
    readonly values: Partial<Record<IoTuneKey, number | null>>,
  ) {}
  get label(): string {
    return `${this.owner.label}.${this.part}`;
  }
  getAttribute(name: string): Value | undefined {
    if (!KEYS.has(name)) return undefined;
    const v = this.values[name as IoTuneKey];
    return v === undefined || v === null ? null : BigInt(v);
  }
  toJson(): Json {
    return Object.fromEntries(IO_TUNE_KEYS.map((k) => [k, this.values[k] ?? null]));
  }
}

/** `disk.setTotalBytesSec` ...: one small object, made when a policy first reads it. */
class Setter implements PolicyFunction {
  readonly kind = 'function';
  constructor(
    private readonly entry: IoTuneEntry,
    private readonly setter: string,
    private readonly key: IoTuneKey,
  ) {}
  get name(): string {
    return `IoTune.${this.setter}`;
  }
  call(args: readonly Value[]): Value {
    return this.entry.invoke(this.setter, args);
  }
}

const SETTER_NAMES = Object.keys(IO_TUNE_SETTERS);

/**
 * One disk of io_tune. Its parts are made when a policy first reads them: a policy reads io_tune
 * for every disk of every guest each cycle, and what it builds lives until the cycle ends (on
 * 1,000 guests, copying it all up front was most of an evaluation's cost).
 */
export class IoTuneEntry implements PolicyObject {
  readonly kind = 'object';
  private guaranteedLimits: Limits | undefined;
  private maximumLimits: Limits | undefined;
  private currentLimits: Limits | undefined;
  private setters: Setter[] | undefined;

  constructor(
    readonly disk: IoTuneDisk,
    private readonly onSet: () => void,
  ) {}

  get label(): string {
    return `IoTune(${this.disk.name})`;
  }
  get guaranteed(): Limits {
    return (this.guaranteedLimits ??= new Limits(this, 'guaranteed', this.disk.guaranteed));
  }
  get maximum(): Limits {
    return (this.maximumLimits ??= new Limits(this, 'maximum', this.disk.maximum));
  }
  /** Starts as the limits in force; the setters change it (a copy: the reading stays as read). */
  get current(): Limits {
    return (this.currentLimits ??= new Limits(this, 'current', { ...this.disk.current }));
  }

  hasMethod(name: string): boolean {
    return Object.hasOwn(IO_TUNE_SETTERS, name);
  }

  /** A setter: one limit of `current`, and the whole list becomes the guest's io_tune control. */
  invoke(name: string, args: readonly Value[]): Value {
    const key = IO_TUNE_SETTERS[name] as IoTuneKey;
    if (args.length !== 1) throw new ValueError(`'IoTune.${name}' expects 1 argument, got ${args.length}`);
    this.current.values[key] = limitOf(args[0] as Value, name);
    this.onSet();
    return null;
  }

  getAttribute(name: string): Value | undefined {
    switch (name) {
      case 'name':
        return this.disk.name;
      case 'path':
        return this.disk.path;
      case 'guaranteed':
        return this.guaranteed;
      case 'maximum':
        return this.maximum;
      case 'current':
        return this.current;
    }
    const key = IO_TUNE_SETTERS[name];
    if (key === undefined) return undefined;
    const i = SETTER_NAMES.indexOf(name);
    this.setters ??= [];
    return (this.setters[i] ??= new Setter(this, name, key));
  }

  toJson(): Json {
    return { name: this.disk.name, path: this.disk.path, ioTune: this.current.toJson() };
  }
}

/** A setter's argument: a whole number (truncated toward zero, as MOM's int()), or nil. */
function limitOf(v: Value, setter: string): number | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  throw new ValueError(`${setter} expects a number or nil, got ${typeName(v)}`);
}

/**
 * io_tune's disks as the policy's list of IoTune objects; `setControl` receives that list when a
 * setter is called.
 *
 * Built with `map`, not as an array literal grown by `push`: the lists live until the evaluation
 * ends, so V8 learned to allocate that literal directly in the old generation, and each push then
 * hung a young backing store off an old array. Once the evaluation was over, those dead old arrays
 * still kept their young entries alive through every scavenge until the next full collection: on
 * 1,000 guests, 5-6 MB copied per scavenge and half of a vdsm-shaped evaluation (docs/benchmarks.md).
 */
export function ioTuneList(disks: readonly IoTuneDisk[], setControl: (list: Value) => void): Value {
  const onSet = (): void => setControl(list);
  const list: IoTuneEntry[] = disks.map((d) => new IoTuneEntry(d, onSet));
  return list;
}
