// io_tune as a policy sees it: a list of MOM's IoTune objects, one per disk, with `name`, `path`
// and three sets of limits, `guaranteed`, `maximum` and `current`, whose six keys read as numbers
// (nil when not set), and MOM's setters (`tune.setTotalBytesSec` ...). A setter changes the
// disk's `current` (as in MOM) and makes the whole list the guest's io_tune control, as
// (guest.Control "io_tune" LIST) would; the IoTune controller then applies what differs.
//
// Tolerance, on purpose: in MOM a disk whose `maximum` lacks a key fails the whole evaluation when
// a policy reads that key (vdsm's 05-iotune reads all six); here such a key reads as nil, and a
// setter given nil leaves that limit as it is.
import { IO_TUNE_KEYS, parseIoTune, type IoTuneDisk, type IoTuneKey } from '../fields/io-tune.js';
import {
  nativeFunction,
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
    readonly label: string,
    readonly values: Partial<Record<IoTuneKey, number | null>>,
  ) {}
  getAttribute(name: string): Value | undefined {
    if (!KEYS.has(name)) return undefined;
    const v = this.values[name as IoTuneKey];
    return v === undefined || v === null ? null : BigInt(v);
  }
  toJson(): Json {
    return Object.fromEntries(IO_TUNE_KEYS.map((k) => [k, this.values[k] ?? null]));
  }
}

/** One disk of io_tune. */
export class IoTuneEntry implements PolicyObject {
  readonly kind = 'object';
  readonly label: string;
  readonly guaranteed: Limits;
  readonly maximum: Limits;
  /** Starts as the limits in force; the setters change it. */
  readonly current: Limits;
  private readonly setters = new Map<string, PolicyFunction>();

  constructor(
    readonly disk: IoTuneDisk,
    private readonly onSet: () => void,
  ) {
    this.label = `IoTune(${disk.name})`;
    this.guaranteed = new Limits(`${this.label}.guaranteed`, { ...disk.guaranteed });
    this.maximum = new Limits(`${this.label}.maximum`, { ...disk.maximum });
    this.current = new Limits(`${this.label}.current`, { ...disk.current });
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
    return key === undefined ? undefined : this.setter(name, key);
  }

  private setter(name: string, key: IoTuneKey): PolicyFunction {
    let fn = this.setters.get(name);
    if (fn === undefined) {
      fn = nativeFunction(`IoTune.${name}`, { min: 1, max: 1 }, ([v]) => {
        this.current.values[key] = limitOf(v ?? null, name);
        this.onSet();
        return null;
      });
      this.setters.set(name, fn);
    }
    return fn;
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
 * io_tune's records as the policy's list of IoTune objects; `setControl` receives that list when a
 * setter is called. A value that is not a list of disks reads as nil.
 */
export function ioTuneList(records: readonly unknown[], setControl: (list: Value) => void): Value {
  const disks = parseIoTune(records);
  if (disks === null) return null;
  const list: IoTuneEntry[] = [];
  for (const d of disks) list.push(new IoTuneEntry(d, () => setControl(list)));
  return list;
}
