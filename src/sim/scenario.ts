// Scenario files: the host, its guests, their workloads and the run's length, as JSON or YAML.
// Every model parameter has a default here (documented with its reason in docs/simulator.md);
// a scenario overrides only what it needs. Validation is strict: an unknown key is an error, so a
// typo cannot silently fall back to a default. Errors name the file and the field's path.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MomError } from '../errors.js';

const nonneg = z.number().nonnegative();
const positive = z.number().positive();
const fraction = z.number().min(0).max(1);

const jitter = {
  /** Random offset added to the pattern, uniform in ±jitter_mib, redrawn every jitter_every_s. */
  jitter_mib: nonneg.default(0),
  jitter_every_s: positive.default(60),
};

export const patternSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), mib: nonneg, ...jitter }),
  z.strictObject({
    kind: z.literal('wave'),
    shape: z.enum(['sine', 'triangle', 'square']).default('sine'),
    min_mib: nonneg,
    max_mib: nonneg,
    period_s: positive,
    phase_s: z.number().default(0),
    /** In a group (count > 1), guest i gets phase_s + i * phase_step_s and period_s + i * period_step_s. */
    phase_step_s: z.number().default(0),
    period_step_s: z.number().default(0),
    ...jitter,
  }),
  z.strictObject({
    kind: z.literal('points'),
    /** [time_s, mib] pairs, times ascending; before the first point the first value holds. */
    points: z.array(z.tuple([nonneg, nonneg])).min(1),
    interpolate: z.enum(['linear', 'step']).default('linear'),
    /** When set, the pattern repeats with this period. */
    repeat_s: positive.optional(),
    /** In a group, guest i's pattern is shifted later by i * shift_step_s. */
    shift_step_s: z.number().default(0),
    ...jitter,
  }),
]);
export type Pattern = z.infer<typeof patternSchema>;

const memknobsSchema = z.strictObject({
  kind: z.literal('memknobs'),
  /** Size of the buffer over time. */
  pattern: patternSchema,
  /** Touch rate with every page resident and a whole CPU (MiB/s). */
  touch_mib_s: positive.default(1024),
  /** Other anonymous memory of the guest (daemons, shells): allocated at boot, then cold. */
  base_mib: nonneg.default(128),
  /** Seconds before the loop is restarted after an OOM kill. */
  restart_s: nonneg.default(10),
  /** Share of the guest's memory whose content is duplicated elsewhere on the host (KSM). */
  ksm_dup: fraction.default(0.8),
});

const pagecacheSchema = z.strictObject({
  kind: z.literal('pagecache'),
  /** File data read over and over, uniformly (MiB). */
  working_set_mib: positive,
  /** Demand: the read rate the clients ask for (MiB/s). */
  max_read_mib_s: positive.default(32),
  /** CPU per 4 KiB page served (request handling, copy), microseconds. */
  read_cpu_us: nonneg.default(20),
  /** Requests in flight at once: disk waits of that many requests overlap. */
  io_parallelism: positive.default(4),
  /** The server's anonymous memory (MiB), touched while serving. */
  anon_mib: nonneg.default(256),
  /** Anonymous pages touched per page served. */
  anon_touches_per_page: nonneg.default(0.25),
  ksm_dup: fraction.default(0.05),
});

const idleSchema = z.strictObject({
  kind: z.literal('idle'),
  /** Memory touched once while booting (MiB); default: 80% of the guest's memory. */
  touch_mib: nonneg.optional(),
  /** Anonymous memory kept (cold) after boot (MiB). */
  keep_mib: nonneg.default(256),
  boot_s: positive.default(30),
  ksm_dup: fraction.default(0.3),
});

const spikeSchema = z.strictObject({
  kind: z.literal('spike'),
  keep_mib: nonneg.default(256),
  boot_s: positive.default(30),
  /** When the allocation happens (seconds after the guest starts), how big, how long it is held. */
  at_s: nonneg,
  size_mib: positive,
  hold_s: positive.default(60),
  /** When set, the spike repeats with this period. */
  every_s: positive.optional(),
  alloc_mib_s: positive.default(512),
  touch_mib_s: positive.default(1024),
  ksm_dup: fraction.default(0.3),
});

export const workloadSchema = z.discriminatedUnion('kind', [
  memknobsSchema,
  pagecacheSchema,
  idleSchema,
  spikeSchema,
]);
export type Workload = z.infer<typeof workloadSchema>;

const guestSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" and "-" only'),
  /** A group of identical guests named NAME01, NAME02, ... */
  count: z.number().int().min(1).default(1),
  memory_mib: positive,
  vcpus: z.number().int().min(1).default(1),
  /** false: no balloon driver (targets ignored, no guest statistics). */
  balloon: z.boolean().default(true),
  balloon_min_mib: nonneg.default(0),
  swap_mib: nonneg.default(1024),
  /** Guest kernel and unreclaimable memory (MiB). */
  kernel_mib: nonneg.default(96),
  /** Page cache left by booting (MiB). */
  boot_cache_mib: nonneg.default(64),
  /**
   * Memory booting touched and freed (MiB): free in the guest, resident on the host, and never
   * given back by free page reporting (freed before the driver ran, in scattered small pieces).
   */
  boot_touched_mib: nonneg.default(0),
  /** Guests of the same image share more identical pages (KSM). */
  image: z.string().default('default'),
  start_s: nonneg.default(0),
  /** In a group, guest i starts at start_s + i * start_step_s. */
  start_step_s: nonneg.default(0),
  stop_s: positive.optional(),
  workload: workloadSchema,
});

const deviceSchema = z.strictObject({
  /** Time one 4 KiB random read takes (ms). */
  latency_ms: positive,
  /** Operations per second before requests queue. */
  iops: positive,
});

export const scenarioSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().default(''),
  duration_s: positive,
  /** The model's fixed time step (s). */
  step_s: positive.max(10).default(1),
  host: z.strictObject({
    memory_gib: positive,
    cpus: z.number().int().min(1).default(16),
    /** Host kernel, daemons and other unreclaimable memory (MiB). */
    os_mib: nonneg.default(1024),
    /** Host page cache: at start and the size it grows back to when memory is free (MiB). */
    cache_mib: nonneg.default(512),
    cache_min_mib: nonneg.default(64),
    cache_growth_mib_s: nonneg.default(1),
    swap_gib: nonneg.default(16),
    /** QEMU's own memory per guest, outside guest RAM (MiB). */
    qemu_overhead_mib: nonneg.default(32),
    /** Weight of hot guest pages in the host's reclaim: 1 = blind (as likely as free pages). */
    reclaim_hot_weight: nonneg.default(1),
    /** Default: Linux's min_free_kbytes = sqrt(16 * MemTotal KiB). */
    min_free_mib: nonneg.optional(),
    swap_device: deviceSchema.default({ latency_ms: 1, iops: 10000 }),
    /** The guests' virtual disks (guest swap and file reads). */
    storage: deviceSchema.default({ latency_ms: 1, iops: 20000 }),
    /** Swap-outs are written in clusters of this many pages (one operation each). */
    swap_write_cluster_pages: positive.default(8),
    /** A fresh host page for a guest (EPT violation, allocation, zeroing), microseconds. */
    fresh_page_us: nonneg.default(2),
  }),
  guest_defaults: z
    .strictObject({
      /** Pages of a guest swap readahead the sequential loop uses (per I/O). */
      swap_readahead_pages: positive.default(4),
      /** The guest's swap writes (MiB/s): bounds how fast a balloon can push anon out. */
      swap_write_mib_s: positive.default(64),
      /** Page cache the guest kernel keeps whatever the pressure (MiB). */
      cache_min_mib: nonneg.default(8),
      /**
       * vCPU time the guest spends per page it writes to its swap (µs): its reclaim and the
       * virtual disk's emulation run on the guest's own CPU. 0: swap-out costs the guest nothing.
       */
      swap_out_cpu_us: nonneg.default(0),
      /**
       * vCPU time the guest spends computing per page it reads back from its swap (µs), on top of
       * the wait for the disk: its fault handling and, under TCG, the emulated virtual disk. The
       * vCPU stays runnable meanwhile, so this time is not given to other guests. 0: none.
       */
      swap_in_cpu_us: nonneg.default(0),
    })
    .default({
      swap_readahead_pages: 4,
      swap_write_mib_s: 64,
      cache_min_mib: 8,
      swap_out_cpu_us: 0,
      swap_in_cpu_us: 0,
    }),
  balloon: z
    .strictObject({
      inflate_mib_s: positive.default(256),
      deflate_mib_s: positive.default(256),
      /** virtio-balloon deflate-on-oom: the guest deflates instead of OOM-killing. */
      deflate_on_oom: z.boolean().default(false),
      /** virtio-balloon free-page-reporting: pages the guest frees go back to the host. */
      free_page_reporting: z.boolean().default(false),
      /** How fast reported pages leave host RAM (MiB/s). */
      reporting_mib_s: positive.default(256),
    })
    .default({
      inflate_mib_s: 256,
      deflate_mib_s: 256,
      deflate_on_oom: false,
      free_page_reporting: false,
      reporting_mib_s: 256,
    }),
  ksm: z
    .strictObject({
      available: z.boolean().default(true),
      run: z.number().int().min(0).max(2).default(0),
      pages_to_scan: z.number().int().min(0).default(100),
      sleep_millisecs: z.number().int().min(0).default(20),
      /** ksmd CPU per page scanned (checksum, tree walk, compare), microseconds. */
      scan_cost_us: positive.default(2),
      /** Average pages_sharing per pages_shared: how many copies one KSM page replaces. */
      sharing_ratio: positive.default(4),
      /** Extra share of a guest's memory identical to other guests of the same image. */
      image_share: fraction.default(0.1),
    })
    .default({
      available: true,
      run: 0,
      pages_to_scan: 100,
      sleep_millisecs: 20,
      scan_cost_us: 2,
      sharing_ratio: 4,
      image_share: 0.1,
    }),
  guests: z.array(guestSchema).min(1),
});
export type ScenarioInput = z.input<typeof scenarioSchema>;
type Parsed = z.infer<typeof scenarioSchema>;

/** One guest after groups are expanded. */
export interface GuestSpec {
  readonly name: string;
  /** Position within its group (0 for a lone guest): patterns use it for phases. */
  readonly index: number;
  readonly memory_mib: number;
  readonly vcpus: number;
  readonly balloon: boolean;
  readonly balloon_min_mib: number;
  readonly swap_mib: number;
  readonly kernel_mib: number;
  readonly boot_cache_mib: number;
  readonly boot_touched_mib: number;
  readonly image: string;
  readonly start_s: number;
  readonly stop_s: number | undefined;
  readonly workload: Workload;
}

/** A validated scenario. */
export interface Scenario extends Omit<Parsed, 'guests' | 'name'> {
  readonly name: string;
  readonly file: string | null;
  readonly guests: readonly GuestSpec[];
}

export class ScenarioError extends MomError {
  constructor(message: string) {
    super('MOM_E_SCENARIO', message);
    this.name = 'ScenarioError';
  }
}

/** The scenarios shipped in the repository's scenarios/ folder. */
export const BUILT_IN_SCENARIOS = ['small', 'memknobs-32', 'cloudy-32'] as const;

/** Validates an already parsed scenario object; `file` names it in errors. */
export function parseScenario(input: unknown, file: string): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${file}: ${formatPath(i.path)}: ${i.message}`);
    throw new ScenarioError(problems.join('\n'));
  }
  const parsed = result.data;
  const guests: GuestSpec[] = [];
  const seen = new Set<string>();
  parsed.guests.forEach((g, gi) => {
    const width = Math.max(2, String(g.count).length);
    for (let i = 0; i < g.count; i++) {
      const name = g.count === 1 ? g.name : `${g.name}${String(i + 1).padStart(width, '0')}`;
      if (seen.has(name))
        throw new ScenarioError(`${file}: guests[${gi}].name: duplicate guest name "${name}"`);
      seen.add(name);
      const start = g.start_s + i * g.start_step_s;
      if (g.stop_s !== undefined && g.stop_s <= start) {
        throw new ScenarioError(`${file}: guests[${gi}].stop_s: must be after start_s (${start})`);
      }
      guests.push({
        name,
        index: i,
        memory_mib: g.memory_mib,
        vcpus: g.vcpus,
        balloon: g.balloon,
        balloon_min_mib: Math.min(g.balloon_min_mib, g.memory_mib),
        swap_mib: g.swap_mib,
        kernel_mib: g.kernel_mib,
        boot_cache_mib: g.boot_cache_mib,
        boot_touched_mib: g.boot_touched_mib,
        image: g.image,
        start_s: start,
        stop_s: g.stop_s,
        workload: g.workload,
      });
    }
  });
  const { name, guests: _groups, ...rest } = parsed;
  const fallback = path.basename(file).replace(/\.(ya?ml|json)$/i, '');
  return { ...rest, name: name ?? fallback, file, guests };
}

/**
 * A built-in scenario by name (small, memknobs-32, cloudy-32: scenarios/NAME.yaml or .json in the
 * repository), or else a path to a JSON or YAML file.
 */
export function loadScenario(nameOrFile: string): Scenario {
  const file = resolveScenarioFile(nameOrFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError(
      `${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  return parseScenario(data, file);
}

function resolveScenarioFile(nameOrFile: string): string {
  const looksLikeName = /^[A-Za-z0-9_-]+$/.test(nameOrFile);
  if (looksLikeName) {
    const dir = findScenariosDir();
    if (dir !== null) {
      for (const ext of ['.yaml', '.yml', '.json']) {
        const candidate = path.join(dir, nameOrFile + ext);
        if (existsSync(candidate)) return candidate;
      }
    }
    if (!existsSync(nameOrFile)) {
      throw new ScenarioError(
        `${nameOrFile}: no such scenario (built-in: ${BUILT_IN_SCENARIOS.join(', ')}; or give a path to a JSON or YAML file)`,
      );
    }
  }
  return nameOrFile;
}

/** The repository's scenarios/ folder, found upward from this module (src/sim or dist/src/sim). */
export function findScenariosDir(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'scenarios');
    if (existsSync(path.join(candidate, 'small.yaml'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

function formatPath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return '(top level)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}
