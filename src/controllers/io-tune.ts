// Applies the guest control io_tune (MOM's IoTune): per disk, the throttle a policy wants, bytes
// and operations per second, 0 for no limit. A policy sets it with MOM's setters on the entries of
// guest.io_tune (`tune.setTotalBytesSec`, as vdsm's 05-iotune does) or with
// (guest.Control "io_tune" LIST), LIST holding io_tune entries or records with name (or path) and
// the six keys, directly or under `current`/`ioTune`. Level-based: each disk's wish is compared
// with its throttle in the same snapshot, and only a disk that differs is sent, all six values at
// once, through the hypervisor's io-tune capability. A key the policy leaves nil keeps its value.
import { IoTuneEntry } from '../entities/io-tune.js';
import type { Entity } from '../entities/entity.js';
import { MomError } from '../errors.js';
import {
  describeIoTuneChange,
  findDisk,
  IO_TUNE_KEYS,
  sameIoTune,
  type IoTuneDisk,
  type IoTuneKey,
  type IoTuneValues,
} from '../fields/io-tune.js';
import { HypervisorError } from '../hypervisors/hypervisor.js';
import { isList, typeName, type PolicyObject, type Value } from '../policy/values.js';
import { joinReasons, missingCapability, type Controller, type Outcome } from './controller.js';

/** One disk's wish: which disk, and per key a whole number, nil (keep), or what is wrong with it. */
export interface IoTuneWish {
  readonly name: string | null;
  readonly path: string | null;
  readonly limits: { readonly [K in IoTuneKey]: number | null | string };
}

const isObject = (v: Value | undefined): v is PolicyObject =>
  v !== null && v !== undefined && typeof v === 'object' && !isList(v) && v.kind === 'object';

function limitOf(v: Value | undefined): number | null | string {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v >= 0n ? Number(v) : `${v} is negative`;
  if (typeof v === 'number' && Number.isFinite(v)) return v >= 0 ? Math.trunc(v) : `${v} is negative`;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return `expected a number, got ${typeName(v)}`;
}

/** The disks a control value asks for, or why it is not a list of disks. */
export function ioTuneWishes(value: Value): IoTuneWish[] | string {
  if (!isList(value)) return `io_tune: expected a list of disks, got ${typeName(value)}`;
  const out: IoTuneWish[] = [];
  for (const [i, entry] of value.entries()) {
    if (entry instanceof IoTuneEntry) {
      const v = entry.current.values;
      out.push({
        name: entry.disk.name,
        path: entry.disk.path,
        limits: Object.fromEntries(IO_TUNE_KEYS.map((k) => [k, v[k] ?? null])) as IoTuneWish['limits'],
      });
      continue;
    }
    if (!isObject(entry)) return `io_tune entry ${i}: expected a disk, got ${typeName(entry)}`;
    const name = entry.getAttribute('name');
    const path = entry.getAttribute('path');
    const inner = entry.getAttribute('ioTune') ?? entry.getAttribute('current');
    const src = isObject(inner) ? inner : entry;
    out.push({
      name: typeof name === 'string' ? name : null,
      path: typeof path === 'string' ? path : null,
      limits: Object.fromEntries(
        IO_TUNE_KEYS.map((k) => [k, limitOf(src.getAttribute(k))]),
      ) as IoTuneWish['limits'],
    });
  }
  return out;
}

/** The disks of the guest's io_tune in this snapshot, as read (null: nil). */
function actualDisks(guest: Entity): IoTuneDisk[] | null {
  const v = guest.getAttribute('io_tune');
  if (!isList(v ?? null)) return null;
  return (v as readonly Value[]).filter((e): e is IoTuneEntry => e instanceof IoTuneEntry).map((e) => e.disk);
}

export function createIoTuneController(): Controller {
  const controller: Controller = {
    name: 'IoTune',
    controls: ['io_tune'],
    needs: { guest: ['io_tune'] },
    requires: { hypervisor: ['io-tune'] },
    async reconcile(ctx) {
      const { entities, hypervisor, signal } = ctx;
      const cannot = missingCapability(controller, ctx.capabilities);
      const outcomes: Outcome[] = [];
      for (const guest of entities.guests) {
        if (!guest.controls.has('io_tune')) continue;
        const name = String(guest.properties['name']);
        const outcome = (control: string, kind: Outcome['outcome'], reason?: string): void => {
          outcomes.push({
            controller: 'IoTune',
            entity: name,
            control,
            outcome: kind,
            old: null,
            new: null,
            ...(reason !== undefined ? { reason } : {}),
          });
        };
        const wishes = ioTuneWishes(guest.controls.get('io_tune') ?? null);
        if (typeof wishes === 'string') {
          outcome('io_tune', 'failed', wishes);
          continue;
        }
        const info = ctx.guests.get(name);
        const disks = actualDisks(guest);
        const why = guest.reasons.get('io_tune');
        for (const w of wishes) {
          const label = `io_tune[${w.name ?? w.path ?? '?'}]`;
          if (cannot !== undefined) {
            outcome(label, 'skipped', cannot);
            continue;
          }
          if (info === undefined) {
            outcome(label, 'skipped', 'guest gone');
            continue;
          }
          if (disks === null) {
            outcome(label, 'skipped', "io_tune is nil: this guest's disk limits cannot be read here");
            continue;
          }
          const disk = findDisk(disks, w.name, w.path);
          if (disk === undefined) {
            outcome(label, 'skipped', `the guest has no disk ${w.name ?? w.path ?? ''}`);
            continue;
          }
          const control = `io_tune[${disk.name}]`;
          const bad = IO_TUNE_KEYS.filter((k) => typeof w.limits[k] === 'string');
          if (bad.length > 0) {
            outcome(control, 'failed', bad.map((k) => `${k}: ${String(w.limits[k])}`).join('; '));
            continue;
          }
          const target = Object.fromEntries(
            IO_TUNE_KEYS.map((k) => [k, (w.limits[k] as number | null) ?? disk.current[k]]),
          ) as IoTuneValues;
          if (sameIoTune(target, disk.current)) {
            outcome(control, 'unchanged');
            continue;
          }
          const change = describeIoTuneChange(disk.current, target);
          try {
            if (hypervisor.setIoTune === undefined)
              throw new HypervisorError(
                'MOM_E_UNSUPPORTED',
                `the ${hypervisor.name} backend cannot throttle disks`,
              );
            await hypervisor.setIoTune(info.id, disk.name, target, signal);
            outcome(control, 'applied', joinReasons(change, why));
          } catch (err) {
            if (!(err instanceof MomError)) throw err;
            const gone = err.code === 'MOM_E_GUEST_GONE';
            outcome(
              control,
              gone || err.code === 'MOM_E_UNSUPPORTED' ? 'skipped' : 'failed',
              gone ? 'guest gone' : `${err.code}: ${err.message} (wanted ${change})`,
            );
          }
        }
      }
      return outcomes;
    },
  };
  return controller;
}
