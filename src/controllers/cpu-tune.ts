// Applies the guest controls vcpu_quota and vcpu_period (µs; MOM's CpuTune): the CPU time each
// vCPU may use per period, -1 for no limit. Level-based: the policy's wish is compared with
// vcpu_quota and vcpu_period of the same snapshot (GuestCpuTune), and only what differs is sent,
// in one call through the hypervisor's cpu-tune capability. A guest whose limit is unknown (nil)
// is skipped, saying why.
import { MomError } from '../errors.js';
import {
  HypervisorError,
  normalQuota,
  VCPU_PERIOD_RANGE,
  VCPU_QUOTA_RANGE,
  type CpuTuneSettings,
} from '../hypervisors/hypervisor.js';
import type { Entity } from '../entities/entity.js';
import {
  controlInteger,
  joinReasons,
  missingCapability,
  numberOrNull,
  type Controller,
  type Outcome,
} from './controller.js';

type Control = 'vcpu_quota' | 'vcpu_period';
const CONTROLS: readonly Control[] = ['vcpu_quota', 'vcpu_period'];

/** What the policy asked for one control, as it will be sent; or why it cannot be. */
type Wish = { value: number; note?: string } | { error: string };

/**
 * A quota as sent: 0 or less is no limit (-1: MOM's vdsm reads an unset quota as 0), a positive
 * one at least 1 ms, and one at or beyond libvirt's ceiling no limit either.
 */
export function wantedQuota(raw: number): { value: number; note?: string } {
  if (raw <= 0) return { value: -1 };
  if (raw < VCPU_QUOTA_RANGE.min)
    return {
      value: VCPU_QUOTA_RANGE.min,
      note: `vcpu_quota raised from ${raw} to ${VCPU_QUOTA_RANGE.min} µs`,
    };
  return { value: normalQuota(raw) };
}

/** A period as sent: within [1 ms, 1 s], as libvirt and the kernel take it. */
export function wantedPeriod(raw: number): { value: number; note?: string } {
  const value = Math.min(Math.max(raw, VCPU_PERIOD_RANGE.min), VCPU_PERIOD_RANGE.max);
  return value === raw
    ? { value }
    : {
        value,
        note: `vcpu_period clamped from ${raw} to [${VCPU_PERIOD_RANGE.min}, ${VCPU_PERIOD_RANGE.max}] µs`,
      };
}

function wish(guest: Entity, control: Control): Wish | undefined {
  if (!guest.controls.has(control)) return undefined;
  const raw = controlInteger(guest.controls.get(control) ?? null);
  if (typeof raw === 'string') return { error: `${control}: ${raw}` };
  return control === 'vcpu_quota' ? wantedQuota(raw) : wantedPeriod(raw);
}

function actualOf(guest: Entity, control: Control): number | null {
  const v = numberOrNull(guest.getAttribute(control));
  return v === null ? null : control === 'vcpu_quota' ? normalQuota(v) : v;
}

export function createCpuTuneController(): Controller {
  const controller: Controller = {
    name: 'CpuTune',
    controls: CONTROLS,
    needs: { guest: ['vcpu_quota', 'vcpu_period'] },
    requires: { hypervisor: ['cpu-tune'] },
    async reconcile(ctx) {
      const { entities, hypervisor, signal } = ctx;
      const cannot = missingCapability(controller, ctx.capabilities);
      const outcomes: Outcome[] = [];
      for (const guest of entities.guests) {
        const wishes = CONTROLS.map((c) => [c, wish(guest, c)] as const).filter(
          (e): e is readonly [Control, Wish] => e[1] !== undefined,
        );
        if (wishes.length === 0) continue;
        const name = String(guest.properties['name']);
        const info = ctx.guests.get(name);
        const pending: Array<{ control: Control; old: number; value: number; note?: string }> = [];
        for (const [control, w] of wishes) {
          const base = { controller: 'CpuTune', entity: name, control } as const;
          const old = actualOf(guest, control);
          if ('error' in w) {
            outcomes.push({ ...base, outcome: 'failed', old, new: null, reason: w.error });
            continue;
          }
          const skip = (reason: string): void => {
            outcomes.push({ ...base, outcome: 'skipped', old, new: w.value, desired: w.value, reason });
          };
          if (cannot !== undefined) skip(cannot);
          else if (info === undefined) skip('guest gone');
          else if (old === null) skip(`${control} is nil: this guest's CPU limit cannot be read here`);
          else if (old === w.value)
            outcomes.push({ ...base, outcome: 'unchanged', old, new: w.value, desired: w.value });
          else pending.push({ control, old, value: w.value, ...(w.note ? { note: w.note } : {}) });
        }
        if (pending.length === 0 || info === undefined) continue;
        const settings: { -readonly [K in keyof CpuTuneSettings]: number } = {};
        for (const p of pending) settings[p.control === 'vcpu_quota' ? 'quota' : 'period'] = p.value;
        let failure: MomError | undefined;
        try {
          if (hypervisor.setCpuTune === undefined)
            throw new HypervisorError(
              'MOM_E_UNSUPPORTED',
              `the ${hypervisor.name} backend cannot set CPU limits`,
            );
          await hypervisor.setCpuTune(info.id, settings, signal);
        } catch (err) {
          if (!(err instanceof MomError)) throw err;
          failure = err;
        }
        for (const p of pending) {
          const base = { controller: 'CpuTune', entity: name, control: p.control } as const;
          const values = { old: p.old, new: p.value, desired: p.value };
          if (failure === undefined) {
            const reason = joinReasons(guest.reasons.get(p.control), p.note);
            outcomes.push({ ...base, outcome: 'applied', ...values, ...(reason ? { reason } : {}) });
          } else {
            const quiet = failure.code === 'MOM_E_GUEST_GONE' || failure.code === 'MOM_E_UNSUPPORTED';
            outcomes.push({
              ...base,
              outcome: quiet ? 'skipped' : 'failed',
              ...values,
              reason:
                failure.code === 'MOM_E_GUEST_GONE' ? 'guest gone' : `${failure.code}: ${failure.message}`,
            });
          }
        }
      }
      return outcomes;
    },
  };
  return controller;
}
