// One run of the benchmark: a memory cgroup standing for the host (its limit is the budget), N
// guests in it running their memload patterns, momd on them (except for the ceiling), a warm-up,
// then the measuring window; afterwards everything the run made is removed, guests first.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeQmpMomConf } from '../../test/integration/support/momd-conf.js';
import { qmpOnce } from '../../test/integration/support/qmp.js';
import {
  createMemoryCgroup,
  startGuest,
  stopAll,
  type Accel,
  type GuestHandle,
  type MemoryCgroup,
} from '../../test/integration/support/qemu.js';
import type { Cleanups } from './cleanup.js';
import {
  describeZswap,
  enableZswap,
  hostCounters,
  readKsmKnobs,
  readZswapKnobs,
  restoreKsmKnobs,
  restoreZswapKnobs,
} from './host.js';
import { runMetrics, type IdleReading, type RunRecord, type UsageSample } from './metrics.js';
import { startMomd, type Momd } from './momd.js';
import {
  benchTurnsZswapOn,
  variantMomdSettings,
  variantPolicy,
  type Options,
  type PlannedRun,
} from './options.js';
import { memloadArgs, workloads } from './patterns.js';
import { SerialTail } from './serial.js';
import type { RunResult } from './summary.js';

const SAMPLE_MS = 200;
const BOOT_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunContext {
  opts: Options;
  /** The guests' accelerator, resolved from opts.accel. */
  accel: Accel;
  repo: string;
  cleanups: Cleanups;
  /** Progress lines for the user. */
  say: (msg: string) => void;
}

/** The policy folder momd gets for a variant: none has an empty one (momd then applies nothing). */
export function policyDirFor(variant: PlannedRun['variant'], ctx: RunContext, runDir: string): string {
  const folder = variantPolicy(variant, ctx.opts);
  if (folder !== null) return resolve(ctx.repo, folder);
  const empty = join(runDir, 'no-policy');
  mkdirSync(empty, { recursive: true });
  return empty;
}

/** Starts every guest; on a failure, stops those that did start and rethrows. */
async function startGuests(ctx: RunContext, cgroup: MemoryCgroup, dir: string): Promise<GuestHandle[]> {
  const { opts } = ctx;
  const started = await Promise.allSettled(
    workloads(opts.pattern, opts.guests, opts.guestMiB).map((w, i) =>
      startGuest({
        name: `g${i + 1}`,
        memoryMiB: opts.guestMiB,
        balloon: true,
        swapMiB: opts.guestSwapMiB,
        // [0] for momd (the mom.conf glob is *.qmp0.sock), [1] for the benchmark.
        qmpSockets: 2,
        cgroup,
        dir,
        workload: memloadArgs(w),
        kernelArgs: w.cacheMiB > 0 ? [`momcache=${w.cacheMiB}`] : [],
        accel: ctx.accel,
      }),
    ),
  );
  const guests = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll(guests);
    throw failed.reason;
  }
  return guests;
}

/** Every 200 ms: the cgroup's usage, and what the guests printed since. */
function startSampler(cgroup: MemoryCgroup, tails: SerialTail[]): { usage: UsageSample[]; stop(): void } {
  const usage: UsageSample[] = [];
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const t = Date.now();
    for (const tail of tails) tail.poll(t);
    cgroup
      .usageBytes()
      .then((bytes) => usage.push({ t, bytes }))
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, SAMPLE_MS);
  return {
    usage,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const tail of tails) {
        tail.poll();
        tail.close();
      }
    },
  };
}

/** The cgroup's memory.stat entries worth keeping, at the window's end (MiB, or counts). */
function pickStat(stat: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['rss', 'cache', 'mapped_file', 'swap'])
    if (k in stat) out[`${k}_mib`] = (stat[k] ?? 0) / 1024 / 1024;
  for (const k of ['pgmajfault', 'pgpgin', 'pgpgout']) if (k in stat) out[k] = stat[k] ?? 0;
  return out;
}

/** The balloon's size in MiB through the benchmark's own QMP socket, or null. */
async function balloonMiB(g: GuestHandle): Promise<number | null> {
  try {
    const r = await qmpOnce<{ actual: number }>(g.qmpPaths[1] as string, 'query-balloon');
    return r.actual / 1024 / 1024;
  } catch {
    return null;
  }
}

interface GuestStatsReply {
  stats: Record<string, number>;
  'last-update': number;
}

/** The guest's free memory and page cache (MiB) from its balloon statistics, or nulls. */
async function guestMemory(g: GuestHandle): Promise<{ freeMiB: number | null; cacheMiB: number | null }> {
  try {
    const r = await qmpOnce<GuestStatsReply>(g.qmpPaths[1] as string, 'qom-get', {
      path: '/machine/peripheral/balloon0',
      property: 'guest-stats',
    });
    const mib = (x: number | undefined): number | null =>
      x === undefined || x < 0 || r['last-update'] === 0 ? null : x / 1024 / 1024;
    return { freeMiB: mib(r.stats['stat-free-memory']), cacheMiB: mib(r.stats['stat-disk-caches']) };
  } catch {
    return { freeMiB: null, cacheMiB: null };
  }
}

/** Seconds after an idle guest went idle at which the benchmark reads what balloons took. */
const IDLE_RECLAIM_S = 60;

/**
 * For each idle guest: its memory when it has gone idle (its pattern's last point; the guests
 * start their workload when ready), and its balloon IDLE_RECLAIM_S seconds later. Without momd
 * (the ceiling) nobody polls the balloon statistics: the benchmark asks for them itself.
 */
async function watchIdleGuests(
  ctx: RunContext,
  guests: GuestHandle[],
  polls: boolean,
): Promise<IdleReading[]> {
  const ws = workloads(ctx.opts.pattern, ctx.opts.guests, ctx.opts.guestMiB);
  const idle = guests.filter((_, i) => ws[i]?.idle === true);
  if (idle.length === 0) return [];
  const idleAtS = Math.max(...ws.filter((w) => w.idle).map((w) => w.points.at(-1)?.t ?? 0));
  if (!polls)
    await Promise.all(
      idle.map((g) =>
        qmpOnce(g.qmpPaths[1] as string, 'qom-set', {
          path: '/machine/peripheral/balloon0',
          property: 'guest-stats-polling-interval',
          value: 2,
        }).catch(() => undefined),
      ),
    );
  // Two polling intervals after going idle, so that the statistics are of the idle guest.
  await sleep((idleAtS + 4) * 1000);
  const before = await Promise.all(idle.map(guestMemory));
  await sleep((IDLE_RECLAIM_S - 4) * 1000);
  const later = await Promise.all(idle.map(balloonMiB));
  return idle.map((g, i) => ({
    name: g.name,
    freeMiB: before[i]?.freeMiB ?? null,
    cacheMiB: before[i]?.cacheMiB ?? null,
    maxMiB: ctx.opts.guestMiB,
    balloonLaterMiB: later[i] ?? null,
  }));
}

/**
 * Stops momd and checks that it put KSM back as it was before it started, and zswap too (which
 * only default-zswap lets it change): a knob left changed is written back here and noted, so
 * that the next run starts from the machine's own settings.
 */
async function stopMomd(
  momd: Momd,
  before: { ksm: Record<string, string>; zswap: Record<string, string> },
  notes: string[],
): Promise<void> {
  if (momd.exitedEarly()) notes.push('momd exited before the end of the run');
  const code = await momd.stop();
  if (code !== 0) notes.push(`momd exited with code ${code}`);
  if (!momd.log.some((l) => String(l['msg']).includes('KSM settings restored')))
    notes.push('momd did not log that it restored KSM');
  const fixed = restoreKsmKnobs(before.ksm);
  if (fixed.length > 0)
    notes.push(`KSM not restored by momd, put back by the benchmark: ${fixed.join(', ')}`);
  const zswap = restoreZswapKnobs(before.zswap);
  if (zswap.length > 0)
    notes.push(`zswap not restored by momd, put back by the benchmark: ${zswap.join(', ')}`);
}

export async function runOnce(ctx: RunContext, planned: PlannedRun): Promise<RunResult> {
  const { opts } = ctx;
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'momd-bench-'));
  const limitMiB =
    planned.budgetPct === null
      ? undefined
      : Math.round((planned.budgetPct / 100) * opts.guests * opts.guestMiB);
  const cgroup = await createMemoryCgroup(
    `overcommit-${process.pid}-${planned.variant}-${planned.budgetPct ?? 'ceiling'}-${planned.repeat}`,
    limitMiB,
  );
  let guests: GuestHandle[] = [];
  let momd: Momd | undefined;
  let sampler: ReturnType<typeof startSampler> | undefined;
  const knobsBefore = { ksm: readKsmKnobs(), zswap: readZswapKnobs() };
  const undo = ctx.cleanups.add(`run ${planned.variant}`, async () => {
    sampler?.stop();
    // none-zswap: the benchmark turned zswap on, so it puts it back before asking whether momd did.
    if (benchTurnsZswapOn(planned.variant)) restoreZswapKnobs(knobsBefore.zswap);
    if (momd) await stopMomd(momd, knobsBefore, notes);
    await stopAll(guests);
    await cgroup.remove(10_000);
    await rm(dir, { recursive: true, force: true });
  });
  try {
    ctx.say(`cgroup ${cgroup.path}, limit ${limitMiB === undefined ? 'none' : `${limitMiB} MiB`}`);
    if (benchTurnsZswapOn(planned.variant)) {
      enableZswap();
      ctx.say(`zswap turned on for the run (${describeZswap()})`);
    }
    guests = await startGuests(ctx, cgroup, dir);
    const tails = guests.map((g) => new SerialTail(g.serialLog));
    sampler = startSampler(cgroup, tails);
    await Promise.all(guests.map((g) => g.waitForReady(BOOT_TIMEOUT_MS)));
    if (planned.variant !== 'ceiling') {
      const conf = writeQmpMomConf(dir, cgroup.path, {
        'policy-dir': policyDirFor(planned.variant, ctx, dir),
        ...variantMomdSettings(planned.variant),
        ...opts.momdSettings,
      });
      momd = startMomd(ctx.repo, conf, dir);
    }
    const idleWatch = watchIdleGuests(ctx, guests, momd !== undefined);
    ctx.say(`${guests.length} guests ready; warm-up ${opts.warmupS} s`);
    await sleep(opts.warmupS * 1000);
    const hostStart = await hostCounters();
    ctx.say(`window ${opts.windowS} s`);
    await sleep(opts.windowS * 1000);
    const hostEnd = await hostCounters();
    const cgroupAtEnd = pickStat(await cgroup.stat());
    const balloons = await Promise.all(guests.map(balloonMiB));
    const exitedDuringRun = guests.map((g) => !g.running());
    const idle = await idleWatch;
    sampler.stop();
    const record: RunRecord = {
      window: { start: hostStart.t, end: hostEnd.t },
      idle,
      guests: guests.map((g, i) => ({
        name: g.name,
        lines: tails[i]?.lines ?? [],
        exitedDuringRun: exitedDuringRun[i] ?? false,
        balloonMiB: balloons[i] ?? null,
      })),
      momdLog: momd?.log ?? [],
      usage: sampler.usage,
      limitBytes: limitMiB === undefined ? null : limitMiB * 1024 * 1024,
      hostStart,
      hostEnd,
    };
    const figures = runMetrics(record);
    // MOMD_BENCH_LOGS=DIR keeps momd's log of each run, to read what the policy did and why.
    const keep = process.env['MOMD_BENCH_LOGS'];
    if (keep && momd) {
      mkdirSync(keep, { recursive: true });
      writeFileSync(
        join(
          keep,
          `${ctx.opts.pattern}-${planned.variant}-${planned.budgetPct ?? 'ceiling'}-${planned.repeat}.log`,
        ),
        momd.log.map((l) => JSON.stringify(l)).join('\n') + '\n',
      );
    }
    await undo();
    return {
      ...planned,
      pattern: opts.pattern,
      startedAt,
      limitMiB: limitMiB ?? null,
      metrics: figures.run,
      guests: figures.guests,
      cgroupAtEnd,
      notes,
    };
  } finally {
    await undo();
  }
}
