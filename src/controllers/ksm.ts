// Applies the KSM controls (ksm_run, ksm_pages_to_scan, ksm_sleep_millisecs,
// ksm_merge_across_nodes) to the host, writing only the knobs whose value differs from the one
// in the newest host sample (level-based: a knob changed behind momd's back is written again).
// On a host without KSM every control is skipped, saying why.
import type { KsmSettings } from '../hypervisors/host.js';
import {
  controlInteger,
  missingCapability,
  numberOrNull,
  type Controller,
  type Outcome,
} from './controller.js';

const KNOBS: ReadonlyArray<{
  control: string;
  setting: keyof KsmSettings;
  valid: (n: number) => boolean;
  expect: string;
}> = [
  { control: 'ksm_run', setting: 'run', valid: (n) => n === 0 || n === 1 || n === 2, expect: '0, 1 or 2' },
  { control: 'ksm_pages_to_scan', setting: 'pagesToScan', valid: (n) => n >= 0, expect: 'a count >= 0' },
  {
    control: 'ksm_sleep_millisecs',
    setting: 'sleepMillisecs',
    valid: (n) => n >= 0,
    expect: 'milliseconds >= 0',
  },
  {
    control: 'ksm_merge_across_nodes',
    setting: 'mergeAcrossNodes',
    valid: (n) => n === 0 || n === 1,
    expect: '0 or 1',
  },
];

export function createKsmController(): Controller {
  const controller: Controller = {
    name: 'KSM',
    controls: ['ksm_run', 'ksm_pages_to_scan', 'ksm_sleep_millisecs', 'ksm_merge_across_nodes'],
    needs: { host: ['ksm_run', 'ksm_pages_to_scan', 'ksm_sleep_millisecs'] },
    requires: { host: ['ksm'] },
    async reconcile(ctx) {
      const { entities, host, signal } = ctx;
      const cannot = missingCapability(controller, ctx.capabilities);
      const outcomes: Outcome[] = [];
      const changes: Partial<Record<keyof KsmSettings, number>> = {};
      const pending: Outcome[] = [];
      for (const knob of KNOBS) {
        if (!entities.host.controls.has(knob.control)) continue;
        const base = { controller: 'KSM', entity: 'host', control: knob.control } as const;
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
        await host.setKsm(changes, signal);
        return [...outcomes, ...pending];
      } catch (err) {
        const reason = (err as Error).message;
        return [...outcomes, ...pending.map((p) => ({ ...p, outcome: 'failed' as const, reason }))];
      }
    },
  };
  return controller;
}
