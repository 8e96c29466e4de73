// Applies the KSM controls (ksm_run, ksm_pages_to_scan, ksm_sleep_millisecs,
// ksm_merge_across_nodes) to the host, writing only the knobs whose value differs from the one
// in the newest host sample (level-based: a knob changed behind momd's back is written again).
// On a host without KSM every control is skipped, saying why.
import type { KsmSettings } from '../hypervisors/host.js';
import { missingCapability, type Controller } from './controller.js';
import { reconcileHostKnobs, type HostKnob } from './host-knobs.js';

const KNOBS: ReadonlyArray<HostKnob<keyof KsmSettings>> = [
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
      const cannot = missingCapability(controller, ctx.capabilities);
      return reconcileHostKnobs(ctx, 'KSM', KNOBS, cannot, (changes, signal) =>
        ctx.host.setKsm(changes, signal),
      );
    },
  };
  return controller;
}
