// Reads the text of `virsh schedinfo DOMAIN --live` (the vCPU quota and period) and of `virsh
// blkdeviotune DOMAIN DISK --live` (a disk's throttle), and builds the arguments that set them.
// Both print `name : value` lines (virsh 9.0; the recorded output is in fixtures/). libvirt
// speaks µs and bytes or operations per second, as the catalogue does: no unit changes here.
import { IO_TUNE_KEYS, type IoTuneValues } from '../../fields/io-tune.js';
import { normalQuota, type CpuTuneSettings } from '../hypervisor.js';

/** `name : value` lines as a map (names trimmed; a value may be empty, as group_name's). */
export function parseColonFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (key !== '' && !out.has(key)) out.set(key, line.slice(i + 1).trim());
  }
  return out;
}

function integer(fields: ReadonlyMap<string, string>, key: string): number | null {
  const t = fields.get(key);
  if (t === undefined || !/^-?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * vcpu_quota and vcpu_period from schedinfo. libvirt shows "no limit" as -1 (cgroup v1) or as
 * 17592186044415 (v2): both are -1 here. A field libvirt leaves out (no CPU controller) is null.
 */
export function cpuTuneOf(schedinfo: string): { quota: number | null; period: number | null } {
  const f = parseColonFields(schedinfo);
  const quota = integer(f, 'vcpu_quota');
  const period = integer(f, 'vcpu_period');
  return {
    quota: quota === null ? null : normalQuota(quota),
    period: period === null || period <= 0 ? null : period,
  };
}

/** The six limits of blkdeviotune, or null when one is missing (not a throttled disk, an old libvirt). */
export function ioTuneOf(blkdeviotune: string): IoTuneValues | null {
  const f = parseColonFields(blkdeviotune);
  const out: Partial<Record<(typeof IO_TUNE_KEYS)[number], number>> = {};
  for (const k of IO_TUNE_KEYS) {
    const v = integer(f, k);
    if (v === null || v < 0) return null;
    out[k] = v;
  }
  return out as IoTuneValues;
}

/** `schedinfo` arguments setting what `settings` holds. */
export function schedinfoSetArgs(domain: string, settings: CpuTuneSettings): string[] {
  const args = ['schedinfo', domain, '--live'];
  if (settings.period !== undefined) args.push('--set', `vcpu_period=${settings.period}`);
  if (settings.quota !== undefined) args.push('--set', `vcpu_quota=${settings.quota}`);
  return args;
}

/** `blkdeviotune` arguments setting all six limits of a disk (libvirt's option names use dashes). */
export function blkdeviotuneSetArgs(domain: string, disk: string, limits: IoTuneValues): string[] {
  const args = ['blkdeviotune', domain, disk, '--live'];
  for (const k of IO_TUNE_KEYS) args.push(`--${k.replace(/_/g, '-')}`, String(limits[k]));
  return args;
}
