// The host side of the benchmark: the swap file made for one invocation, the machine-wide
// counters read at the window's ends (reusing momd's own /proc readers), KSM's and zswap's knobs
// (to check that momd puts them back), and a description of the machine for the results file.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { readMemoryPressure } from '../../src/hypervisors/linux/pressure.js';
import { readVmstat } from '../../src/hypervisors/linux/vmstat.js';
import { QEMU_BINARY, type Accel } from '../../test/integration/support/qemu.js';
import type { HostCounters } from './metrics.js';

const execFileP = promisify(execFile);

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** The folder where each invocation makes its swap file, named after the tool and its pid. */
export const SWAP_DIR = '/var/tmp';
/** The tools that make one: the overcommit bench and its calibration. */
export type SwapTool = 'bench' | 'calibrate';
const SWAP_NAME = /^momd-(?:bench|calibrate)-swap-(\d+)$/;

/** The swap file of `tool`'s invocation with this pid. */
export function swapPathFor(tool: SwapTool, pid: number): string {
  return `${SWAP_DIR}/momd-${tool}-swap-${pid}`;
}

/** The files and partitions in use as swap, from the text of /proc/swaps. */
function swapsInUse(procSwaps: string): string[] {
  return procSwaps
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((p) => p !== '');
}

/**
 * The swap files of invocations that no longer run (killed with SIGKILL, or the machine restarted
 * under them), whether still on (`procSwaps`, the text of /proc/swaps) or only left in SWAP_DIR
 * (`names`). Left on, such a file gives every later run host swap it did not ask for.
 */
export function staleSwapFiles(
  procSwaps: string,
  names: readonly string[],
  running: (pid: number) => boolean,
): string[] {
  const inUse = swapsInUse(procSwaps)
    .filter((p) => p.startsWith(`${SWAP_DIR}/`))
    .map((p) => p.slice(SWAP_DIR.length + 1));
  const stale = new Set<string>();
  for (const name of [...inUse, ...names]) {
    const pid = SWAP_NAME.exec(name)?.[1];
    if (pid !== undefined && !running(Number(pid))) stale.add(`${SWAP_DIR}/${name}`);
  }
  return [...stale].sort();
}

/** Whether `pid` is a running overcommit bench or calibration (a pid reused by another program is not). */
function benchRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('overcommit');
  } catch {
    return false;
  }
}

/** Removes the swap files staleSwapFiles finds on this machine; returns their paths. */
export async function removeStaleSwapFiles(): Promise<string[]> {
  const stale = staleSwapFiles(readFileSync('/proc/swaps', 'utf8'), readdirSync(SWAP_DIR), benchRunning);
  for (const path of stale) await removeHostSwap(path);
  return stale;
}

/** swapoff `path` if it is in use as swap, and remove it; nothing when neither. */
export async function removeHostSwap(path: string): Promise<void> {
  if (swapsInUse(readFileSync('/proc/swaps', 'utf8')).includes(path)) await sh('swapoff', [path]);
  await rm(path, { force: true });
}

/** Makes and enables a swap file of `mib` MiB (fallocate, mkswap, swapon); removes it on failure. */
export async function createHostSwap(path: string, mib: number): Promise<void> {
  try {
    await sh('fallocate', ['-l', `${mib}M`, path]);
    await sh('chmod', ['600', path]);
    await sh('mkswap', [path]);
    await sh('swapon', [path]);
  } catch (err) {
    await removeHostSwap(path).catch(() => undefined);
    throw err;
  }
}

/** Host swap pages and memory stall totals now. */
export async function hostCounters(): Promise<HostCounters> {
  const [vm, psi] = await Promise.all([readVmstat('/proc'), readMemoryPressure('/proc')]);
  return {
    t: Date.now(),
    pswpin: vm.pswpin ?? 0,
    pswpout: vm.pswpout ?? 0,
    zswpin: vm.zswpin ?? 0,
    zswpout: vm.zswpout ?? 0,
    psiSomeUs: psi.some.totalUs,
    psiFullUs: psi.full.totalUs,
  };
}

const KSM_DIR = '/sys/kernel/mm/ksm';
const KSM_KNOBS = ['run', 'pages_to_scan', 'sleep_millisecs'] as const;
const ZSWAP_DIR = '/sys/module/zswap/parameters';
// The pool size before enabled: turning zswap back on comes last.
const ZSWAP_KNOBS = ['max_pool_percent', 'enabled'] as const;

/** The knobs' text by name; a knob the kernel lacks is left out. */
function readKnobs(dir: string, knobs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of knobs) {
    try {
      out[k] = readFileSync(`${dir}/${k}`, 'utf8').trim();
    } catch {
      // not in this kernel
    }
  }
  return out;
}

/** Writes back the knobs that differ from `wanted`, in its order; returns what it had to fix. */
function restoreKnobs(dir: string, wanted: Record<string, string>): string[] {
  const now = readKnobs(dir, Object.keys(wanted));
  const fixed: string[] = [];
  for (const [k, v] of Object.entries(wanted)) {
    if (now[k] === v) continue;
    writeFileSync(`${dir}/${k}`, v);
    fixed.push(`${k} ${now[k]} → ${v}`);
  }
  return fixed;
}

export const readKsmKnobs = (): Record<string, string> => readKnobs(KSM_DIR, KSM_KNOBS);
export const restoreKsmKnobs = (wanted: Record<string, string>): string[] => restoreKnobs(KSM_DIR, wanted);
export const readZswapKnobs = (): Record<string, string> => readKnobs(ZSWAP_DIR, ZSWAP_KNOBS);
export const restoreZswapKnobs = (wanted: Record<string, string>): string[] =>
  restoreKnobs(ZSWAP_DIR, wanted);

/** Turns zswap on with the pool size as found (none-zswap: an administrator enabling it by hand). */
export function enableZswap(): void {
  writeFileSync(`${ZSWAP_DIR}/enabled`, 'Y');
}

/** zswap as found, for the results file: 'enabled N, max_pool_percent 20', or 'not in this kernel'. */
export function describeZswap(): string {
  const k = readZswapKnobs();
  return Object.keys(k).length === 0
    ? 'not in this kernel'
    : ZSWAP_KNOBS.filter((n) => n in k)
        .reverse()
        .map((n) => `${n} ${k[n]}`)
        .join(', ');
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramMiB: number;
  kernel: string;
  qemu: string;
  node: string;
  date: string;
  gitCommit: string;
  gitDirty: boolean;
  /** The machine's zswap at the start (machine-wide: every variant but default-zswap runs with it). */
  zswap: string;
  /** The guests' accelerator: kvm, or tcg (software emulation: CPU-bound, see docs/benchmarks.md). */
  accel: Accel;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    return (await sh(cmd, args)).split('\n')[0]?.trim() ?? '';
  } catch {
    return 'unknown';
  }
}

export async function machineInfo(repo: string, accel: Accel): Promise<MachineInfo> {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return {
    cpuModel: model ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramMiB: Math.round(totalmem() / 1024 / 1024),
    kernel: await firstLine('uname', ['-r']),
    qemu: await firstLine(QEMU_BINARY, ['--version']),
    node: process.version,
    date: new Date().toISOString(),
    gitCommit: await firstLine('git', ['-C', repo, 'rev-parse', 'HEAD']),
    gitDirty: (await firstLine('git', ['-C', repo, 'status', '--porcelain'])) !== '',
    zswap: describeZswap(),
    accel,
  };
}
