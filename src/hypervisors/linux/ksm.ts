// KSM's state and knobs in <sysRoot>/kernel/mm/ksm, read and written as files.
// Fields and knobs: https://docs.kernel.org/admin-guide/mm/ksm.html
import { join } from 'node:path';
import type { KsmLike, KsmSettings } from '../host.js';
import {
  CollectionError,
  KernelWriteError,
  listDirectory,
  NotAvailable,
  readText,
  writeKernelValue,
  type ReadOptions,
} from './read.js';

export const KSM_HINT = 'KSM not in this kernel (CONFIG_KSM)';

/** The sysfs file of each writable knob. */
export const KSM_KNOB_FILES: Readonly<Record<keyof KsmSettings, string>> = {
  run: 'run',
  pagesToScan: 'pages_to_scan',
  sleepMillisecs: 'sleep_millisecs',
  mergeAcrossNodes: 'merge_across_nodes',
};

/** /sys/kernel/mm/ksm: the knobs and counters momd uses; merge_across_nodes is null without NUMA. */
export type KsmState = KsmLike;

/** KsmState plus every file of the directory, by file name: integers as numbers, others as text. */
export interface KsmReading extends KsmState {
  readonly files: Readonly<Record<string, number | string>>;
}

export function ksmDir(sysRoot: string): string {
  return join(sysRoot, 'kernel', 'mm', 'ksm');
}

/**
 * Reads every file of the KSM directory (newer kernels add files such as ksm_zero_pages and
 * advisor_mode, whose text is kept as is). No directory → NotAvailable(KSM_HINT); a missing or
 * malformed core file → CollectionError.
 */
export async function readKsm(sysRoot: string, opts: ReadOptions = {}): Promise<KsmReading> {
  const dir = ksmDir(sysRoot);
  const names = (await listDirectory(dir, { hint: KSM_HINT, ...opts })).sort();
  const files: Record<string, number | string> = {};
  await Promise.all(
    names.map(async (name) => {
      try {
        const text = (await readText(join(dir, name), opts)).trim();
        files[name] = /^-?\d+$/.test(text) ? Number(text) : text;
      } catch (err) {
        // A write-only or vanished attribute is not part of the state.
        if (!(err instanceof NotAvailable) && !(err instanceof CollectionError)) throw err;
      }
    }),
  );
  const int = (name: string): number => {
    const v = files[name];
    if (typeof v === 'number') return v;
    throw new CollectionError(
      join(dir, name),
      v ?? null,
      v === undefined ? 'missing' : 'expected an integer',
    );
  };
  const optionalInt = (name: string): number | null => (files[name] === undefined ? null : int(name));
  return {
    run: int('run'),
    pagesToScan: int('pages_to_scan'),
    sleepMillisecs: int('sleep_millisecs'),
    // Only NUMA kernels (CONFIG_NUMA) have it.
    mergeAcrossNodes: optionalInt('merge_across_nodes'),
    pagesShared: int('pages_shared'),
    pagesSharing: int('pages_sharing'),
    pagesUnshared: int('pages_unshared'),
    pagesVolatile: int('pages_volatile'),
    fullScans: int('full_scans'),
    files,
  };
}

const LIMITS: Readonly<Record<keyof KsmSettings, (n: number) => boolean>> = {
  run: (n) => n === 0 || n === 1 || n === 2,
  pagesToScan: (n) => n >= 0 && n <= 0xffffffff,
  sleepMillisecs: (n) => n >= 0 && n <= 0xffffffff,
  mergeAcrossNodes: (n) => n === 0 || n === 1,
};

/**
 * Writes only the given knobs. Order matters to the kernel: stopping or unmerging (run 0 or 2)
 * comes first and starting (run 1) last, so a change of merge_across_nodes after run=2 finds no
 * shared pages, and ksmd starts with its new pace. An invalid value is rejected before anything is
 * written (RangeError). The kernel's refusal → KernelWriteError naming the file, the value, the
 * errno and the knobs already written; EBUSY on merge_across_nodes says to unmerge first.
 */
export async function writeKsm(
  sysRoot: string,
  settings: Partial<KsmSettings>,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const dir = ksmDir(sysRoot);
  const order: Array<keyof KsmSettings> = [];
  if (settings.run !== undefined && settings.run !== 1) order.push('run');
  order.push('mergeAcrossNodes', 'pagesToScan', 'sleepMillisecs');
  if (settings.run === 1) order.push('run');

  const writes: Array<[keyof KsmSettings, number]> = [];
  for (const key of order) {
    const v = settings[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || !LIMITS[key](v)) {
      throw new RangeError(`ksm ${KSM_KNOB_FILES[key]}: invalid value ${v}`);
    }
    writes.push([key, v]);
  }
  if (writes.length === 0) return;
  await listDirectory(dir, { hint: KSM_HINT, ...opts });

  const done: string[] = [];
  for (const [key, value] of writes) {
    const file = KSM_KNOB_FILES[key];
    try {
      await writeKernelValue(join(dir, file), value, {
        signal: opts.signal,
        hint:
          key === 'mergeAcrossNodes'
            ? 'merge_across_nodes exists only on NUMA kernels (CONFIG_NUMA)'
            : KSM_HINT,
        explain: (code) => explainKsmWriteError(file, code),
      });
    } catch (err) {
      if (err instanceof KernelWriteError && done.length > 0) {
        throw new KernelWriteError(
          err.path,
          err.value,
          err.errno,
          `${err.message}; already written: ${done.join(', ')}`,
        );
      }
      throw err;
    }
    done.push(`${file}=${value}`);
  }
}

/** A clearer message for the refusals the KSM documentation describes; undefined for the rest. */
export function explainKsmWriteError(file: string, code: string): string | undefined {
  if (file === 'merge_across_nodes' && code === 'EBUSY') {
    return (
      'the kernel refuses to change merge_across_nodes while KSM has merged pages ' +
      '(pages_shared > 0); set ksm_run to 2 to unmerge them first'
    );
  }
  return undefined;
}
