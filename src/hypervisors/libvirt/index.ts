// The libvirt backend: guests managed by libvirtd (virt-manager, oVirt/vdsm, OpenStack nova).
// Every request goes through libvirt's command-line client `virsh` (virsh.ts); the output of
// `virsh domstats` is read in domstats.ts.
//
// Why virsh and not libvirt's own protocol: no maintained Node.js binding for libvirt exists on npm
// (only a small unmaintained native fork), and speaking libvirt's XDR RPC protocol over
// /run/libvirt/libvirt-sock ourselves would be a large hand-written dependency to keep in step
// with libvirt. Running virsh costs one process per request, but the number of requests per cycle
// stays flat as guests are added: ONE `virsh domstats --balloon --state --list-active` returns
// every running domain's statistics, and ONE `virsh list --uuid --name` lists them all. Only a
// few things cost a call per guest: a balloon change (`virsh setmem`), reading the domain's XML
// (`virsh dumpxml`, for its guaranteed memory) once when it is first seen, and turning on
// statistics polling (`virsh dommemstat --period`) once in the life of a guest that has it off.
// CPU and I/O tuning (GuestCpuTune, GuestIoTune), when configured, cost more: per guest and
// collection one `virsh dumpxml` (vCPU count, disks, oVirt's tune metadata), one `virsh schedinfo`
// and one `virsh blkdeviotune` per disk, at most TUNING_CONCURRENCY at once. A pause is
// `virsh suspend` and `virsh resume`; the run state is the domain's `domstats --state`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { GuestReading } from '../../fields/catalogue.js';
import { findDisk, type IoTuneDisk } from '../../fields/io-tune.js';
import {
  balloonTarget,
  HypervisorError,
  checkCpuTune,
  checkIoTune,
  type GuestInfo,
  type GuestRunState,
  type Hypervisor,
  type HypervisorCapability,
  type TuningRequest,
} from '../hypervisor.js';
import { readAgentMemory, virshChannel } from '../guest-agent/agent.js';
import { mapLimit } from '../linux/process.js';
import { readQemuProcess } from '../linux/qemu-processes.js';
import { guaranteeOf, tuningOf } from './domain-xml.js';
import {
  DomainState,
  domainState,
  lastUpdate,
  numberField,
  parseDomstats,
  toGuestReading,
} from './domstats.js';
import { blkdeviotuneSetArgs, cpuTuneOf, ioTuneOf, schedinfoSetArgs } from './tuning.js';
import { createVirshRunner, type VirshRunner } from './virsh.js';

export { createVirshRunner, classifyVirshFailure, type VirshRunner } from './virsh.js';
export { parseDomstats, toGuestReading, type DomainStats } from './domstats.js';

export interface LibvirtOptions {
  /** The libvirt connection URI (default qemu:///system). */
  uri?: string;
  /** Runs virsh; by default the real one, through createVirshRunner({ uri, timeoutMs }). */
  virsh?: VirshRunner;
  /**
   * How often (seconds) a guest's balloon driver should refresh its statistics; set once on a
   * guest whose statistics never refresh (default 2; 0 never sets it).
   */
  statsPeriodS?: number;
  /** Milliseconds allowed for each virsh call (default 10000). */
  timeoutMs?: number;
  /** The host's wall clock in seconds since the Unix epoch (default Date.now() / 1000). */
  now?: () => number;
  /** Called once per guest and kind of trouble. */
  onWarning?: (message: string) => void;
  /**
   * Where libvirtd writes `<domain name>.pid` for each running QEMU (default /run/libvirt/qemu
   * for qemu:///system, none for other URIs); null: every GuestInfo.pid is null.
   */
  pidDir?: string | null;
  /** Where /proc is, for the QEMU process's swapped-out memory (default /proc). */
  procRoot?: string;
}

const DEFAULT_URI = 'qemu:///system';

/** A line of `virsh list --uuid --name`: `UUID NAME` (a name may hold spaces). */
const LIST_LINE = /^\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\s+(\S.*?))?\s*$/i;

/** What virsh says when asked to resume a domain that runs (libvirt's VIR_ERR_OPERATION_INVALID). */
const ALREADY_RUNNING = /domain is already running/i;

/** How many `dommemstat --period` calls may run at once (each is one virsh process). */
const PERIOD_CONCURRENCY = 4;
/** How many guests' tuning is read at once (each read is two or more virsh processes). */
const TUNING_CONCURRENCY = 4;

export function createLibvirtBackend(opts: LibvirtOptions = {}): Hypervisor {
  const uri = opts.uri ?? DEFAULT_URI;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const virsh = opts.virsh ?? createVirshRunner({ uri, timeoutMs });
  const statsPeriodS = opts.statsPeriodS ?? 2;
  // Statistics older than this mean the guest is not polled (period 0): a polled guest refreshes
  // every statsPeriodS, and a guest that is only slow gets the same period set, which is harmless.
  const staleAfterS = Math.max(3 * statsPeriodS, 10);
  const nowS = opts.now ?? (() => Date.now() / 1000);
  const warn = opts.onWarning ?? (() => {});
  const warned = new Set<string>();
  const warnOnce = (kind: string, message: string): void => {
    if (warned.has(kind)) return;
    warned.add(kind);
    warn(message);
  };
  const pidDir = opts.pidDir !== undefined ? opts.pidDir : defaultPidDir(uri);
  const procRoot = opts.procRoot ?? '/proc';

  /** uuid → name of the domains seen in the latest listing (domstats names domains, not uuids). */
  let names = new Map<string, string>();
  /** uuid → QEMU pid at the latest listing; a new pid means the guest was restarted. */
  const pids = new Map<string, number>();
  /** uuids whose statistics period we have tried to set, whatever the result. */
  const periodTried = new Set<string>();
  /** uuid → the guaranteed memory (KiB) from the domain's XML, read once per start of the guest. */
  const floors = new Map<string, number | null>();
  /** uuid → balloon.maximum at the latest statistics, for clamping balloon targets. */
  const maxima = new Map<string, number>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new HypervisorError('MOM_E_CLOSED', 'libvirt backend is closed');
  }

  /** The domain's guaranteed memory, from its XML; an unreadable XML is no floor (warned once). */
  async function floorOf(uuid: string, signal?: AbortSignal): Promise<number | null> {
    const known = floors.get(uuid);
    if (known !== undefined) return known;
    let kib: number | null = null;
    try {
      kib = guaranteeOf(await virsh(['dumpxml', uuid], signal)).kib;
    } catch (err) {
      if (signal?.aborted) throw err;
      if (!(err instanceof HypervisorError && err.code === 'MOM_E_GUEST_GONE'))
        warnOnce(
          `xml-${uuid}`,
          `libvirt: guest ${names.get(uuid) ?? uuid}: cannot read its XML (no balloon floor from it): ${errorText(err)}`,
        );
      return null;
    }
    floors.set(uuid, kib);
    return kib;
  }

  async function list(signal?: AbortSignal): Promise<GuestInfo[]> {
    // One call for both: with --uuid and --name together, virsh 9.0 prints `UUID NAME` per line.
    const out = await virsh(['list', '--uuid', '--name'], signal);
    const guests: GuestInfo[] = [];
    const next = new Map<string, string>();
    for (const line of out.split('\n')) {
      const m = LIST_LINE.exec(line);
      if (m === null) continue;
      const uuid = (m[1] ?? '').toLowerCase();
      const name = m[2] ?? '';
      if (name === '') {
        warnOnce(
          'list-names',
          `libvirt: \`virsh list --uuid --name\` printed no names (virsh older than 9.0?)`,
        );
        continue;
      }
      next.set(uuid, name);
      const pid = await readPid(name);
      const before = pids.get(uuid);
      // A restarted guest starts again with the statistics period and XML of its configuration.
      if (before !== undefined && pid !== null && pid !== before) {
        periodTried.delete(uuid);
        floors.delete(uuid);
      }
      if (pid !== null) pids.set(uuid, pid);
      guests.push({ id: uuid, name, uuid, pid });
    }
    // Forget guests that are gone, so a long-running daemon keeps no state for them.
    for (const uuid of names.keys()) {
      if (next.has(uuid)) continue;
      pids.delete(uuid);
      periodTried.delete(uuid);
      floors.delete(uuid);
      maxima.delete(uuid);
    }
    names = next;
    return guests;
  }

  /**
   * domstats has no host swap figure, CPU time or host page faults of the QEMU process: read from
   * /proc when its pid is known.
   */
  async function withSwapped(id: string, reading: GuestReading): Promise<GuestReading> {
    const pid = pids.get(id);
    if (pid === undefined) return reading;
    const proc = await readQemuProcess(procRoot, pid).catch(() => null);
    return {
      ...reading,
      swapped: proc?.swapped ?? null,
      cpu_time: proc?.cpuMs ?? null,
      host_minor_faults: proc?.minorFaults ?? null,
      host_major_faults: proc?.majorFaults ?? null,
    };
  }

  /** The QEMU pid from libvirtd's pid file (one small file read, no command); null if unreadable. */
  async function readPid(name: string): Promise<number | null> {
    if (pidDir === null) return null;
    const text = await readFile(path.join(pidDir, `${name}.pid`), 'utf8').catch(() => null);
    const pid = text !== null && /^\s*\d+\s*$/.test(text) ? Number(text) : 0;
    return pid > 0 ? pid : null;
  }

  /** Turns on statistics polling, once per guest; failures are warnings, the stats stay null. */
  async function enablePolling(uuids: readonly string[], signal?: AbortSignal): Promise<void> {
    const queue = [...uuids];
    for (const uuid of queue) periodTried.add(uuid);
    const worker = async (): Promise<void> => {
      for (let uuid = queue.shift(); uuid !== undefined; uuid = queue.shift()) {
        try {
          await virsh(['dommemstat', uuid, '--period', String(statsPeriodS), '--live'], signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          if (err instanceof HypervisorError && err.code === 'MOM_E_GUEST_GONE') continue;
          const name = names.get(uuid) ?? uuid;
          warn(
            `libvirt: guest ${name}: cannot turn on balloon statistics every ${statsPeriodS} s ` +
              `(its memory statistics will stay old or missing): ${errorText(err)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PERIOD_CONCURRENCY, queue.length) }, worker));
  }

  /** One guest's tuning fields; throws HypervisorError (MOM_E_GUEST_GONE when it is gone). */
  async function tuningOfGuest(id: string, want: TuningRequest, signal?: AbortSignal): Promise<GuestReading> {
    const name = names.get(id) ?? id;
    const t = tuningOf(await virsh(['dumpxml', id], signal));
    const out: { -readonly [K in keyof GuestReading]: GuestReading[K] } = {};
    if (want.cpu) {
      out.vcpu_count = t.vcpuCount;
      out.vcpu_user_limit = t.vcpuLimit;
      const cpu = await optionalRead(name, 'schedinfo', () => virsh(['schedinfo', id, '--live'], signal));
      const tune = cpu === null ? { quota: null, period: null } : cpuTuneOf(cpu);
      out.vcpu_quota = tune.quota;
      out.vcpu_period = tune.period;
    }
    if (want.io) {
      const disks: IoTuneDisk[] = [];
      for (const disk of t.disks) {
        const text = await optionalRead(name, `blkdeviotune-${disk.name}`, () =>
          virsh(['blkdeviotune', id, disk.name, '--live'], signal),
        );
        const current = text === null ? null : ioTuneOf(text);
        if (current === null) continue;
        const policy = findDisk(t.ioPolicy, disk.name, disk.path);
        disks.push({
          name: disk.name,
          path: disk.path,
          guaranteed: policy?.guaranteed ?? {},
          maximum: policy?.maximum ?? {},
          current,
        });
      }
      out.io_tune = disks;
    }
    return out;
  }

  /** A read whose failure (other than the guest being gone) leaves its fields nil, warned once. */
  async function optionalRead(
    name: string,
    what: string,
    read: () => Promise<string>,
  ): Promise<string | null> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof HypervisorError) || err.code === 'MOM_E_GUEST_GONE') throw err;
      warnOnce(`${what}-${name}`, `libvirt: guest ${name}: ${err.message} (its fields stay nil)`);
      return null;
    }
  }

  const capabilities: ReadonlySet<HypervisorCapability> = new Set<HypervisorCapability>([
    'balloon',
    'guest-stats',
    ...(pidDir === null ? [] : (['guest-pid'] as const)),
    'cpu-tune',
    'io-tune',
    'pause',
    'guest-agent',
  ]);

  return {
    name: 'libvirt',
    capabilities,

    async listGuests(signal) {
      assertOpen();
      signal?.throwIfAborted();
      return list(signal);
    },

    async guestStats(ids, signal) {
      assertOpen();
      signal?.throwIfAborted();
      if (ids.length === 0) return new Map();
      // A guest not seen in the latest listing: list once more to learn its name.
      if (ids.some((id) => !names.has(id))) await list(signal);
      const out = await virsh(
        ['domstats', '--raw', '--balloon', '--state', '--list-active', '--nowait'],
        signal,
      );
      const byName = new Map(parseDomstats(out).map((d) => [d.name, d]));
      const now = nowS();
      const result = new Map<string, GuestReading | HypervisorError>();
      const needPolling: string[] = [];
      for (const id of ids) {
        const name = names.get(id);
        const d = name === undefined ? undefined : byName.get(name);
        const state = d === undefined ? null : domainState(d);
        if (
          name === undefined ||
          d === undefined ||
          state === DomainState.shutoff ||
          state === DomainState.crashed
        ) {
          result.set(
            id,
            new HypervisorError('MOM_E_GUEST_GONE', `libvirt: guest ${name ?? id} is not running`),
          );
          continue;
        }
        const reading = await withSwapped(id, toGuestReading(d, now, await floorOf(id, signal)));
        if (typeof reading.balloon_max === 'number') maxima.set(id, reading.balloon_max);
        result.set(id, reading);
        const last = lastUpdate(d);
        if (statsPeriodS > 0 && !periodTried.has(id) && (last === null || now - last > staleAfterS)) {
          needPolling.push(id);
        }
      }
      if (needPolling.length > 0) await enablePolling(needPolling, signal);
      return result;
    },

    async setBalloonTarget(id, kib, signal) {
      assertOpen();
      signal?.throwIfAborted();
      let max = maxima.get(id);
      if (max === undefined) {
        // Not seen in a statistics call yet: ask for this one domain's balloon.
        const domains = parseDomstats(await virsh(['domstats', '--raw', '--balloon', id], signal));
        const d =
          domains.find((x) => x.name === names.get(id)) ?? (domains.length === 1 ? domains[0] : undefined);
        const m = d === undefined ? null : numberField(d, 'balloon.maximum');
        if (m === null) throw new HypervisorError('MOM_E_GUEST_GONE', `libvirt: guest ${id} is not running`);
        max = m;
      }
      const target = balloonTarget(kib, { floor: await floorOf(id, signal), max }, names.get(id) ?? id);
      // The uuid names the domain for virsh as well as its name does, and cannot be reused by
      // another domain between our listing and this call. `KiB` is also setmem's default unit.
      await virsh(['setmem', id, `${target}KiB`, '--live'], signal);
      return target;
    },

    async guestAgentStats(ids, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const result = new Map<string, GuestReading | HypervisorError>();
      if (ids.some((id) => !names.has(id))) await list(signal);
      // libvirt holds the agent's socket itself; each command is one virsh qemu-agent-command.
      const timeoutS = Math.max(1, Math.floor(timeoutMs / 1000));
      await mapLimit(ids, TUNING_CONCURRENCY, async (id) => {
        const name = names.get(id);
        if (name === undefined) {
          result.set(id, new HypervisorError('MOM_E_GUEST_GONE', `libvirt: guest ${id} is not running`));
          return;
        }
        try {
          result.set(id, await readAgentMemory(virshChannel(virsh, id, timeoutS, signal), name));
        } catch (err) {
          if (signal?.aborted || !(err instanceof HypervisorError)) throw err;
          result.set(id, err);
        }
      });
      return result;
    },

    async guestTuning(ids, want, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const result = new Map<string, GuestReading | HypervisorError>();
      if (ids.length === 0 || (!want.cpu && !want.io)) return result;
      if (ids.some((id) => !names.has(id))) await list(signal);
      await mapLimit(ids, TUNING_CONCURRENCY, async (id) => {
        if (!names.has(id)) {
          result.set(id, new HypervisorError('MOM_E_GUEST_GONE', `libvirt: guest ${id} is not running`));
          return;
        }
        try {
          result.set(id, await tuningOfGuest(id, want, signal));
        } catch (err) {
          if (signal?.aborted || !(err instanceof HypervisorError)) throw err;
          result.set(id, err);
        }
      });
      return result;
    },

    async setCpuTune(id, settings, signal) {
      assertOpen();
      signal?.throwIfAborted();
      checkCpuTune(settings, names.get(id) ?? id);
      if (settings.quota === undefined && settings.period === undefined) return;
      await virsh(schedinfoSetArgs(id, settings), signal);
    },

    async setIoTune(id, disk, limits, signal) {
      assertOpen();
      signal?.throwIfAborted();
      checkIoTune(limits, `guest ${names.get(id) ?? id} disk ${disk}`);
      await virsh(blkdeviotuneSetArgs(id, disk, limits), signal);
    },

    async runState(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const [d] = parseDomstats(await virsh(['domstats', '--raw', '--state', id], signal));
      const state = d === undefined ? null : domainState(d);
      if (state === null || state === DomainState.shutoff || state === DomainState.crashed)
        throw new HypervisorError('MOM_E_GUEST_GONE', `libvirt: guest ${names.get(id) ?? id} is not running`);
      return runStateOf(state);
    },

    async pause(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      // libvirt leaves a paused domain as it is (no error), as QMP's stop does.
      await virsh(['suspend', id], signal);
    },

    async resume(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      try {
        await virsh(['resume', id], signal);
      } catch (err) {
        // libvirt refuses to resume a running domain (QMP's cont does nothing): the same end state.
        if (!(err instanceof HypervisorError && ALREADY_RUNNING.test(err.message))) throw err;
      }
    },

    async close() {
      // virsh keeps no connection between calls; closing only refuses further requests.
      closed = true;
    },
  };
}

/** A virDomainState as a GuestRunState: `blocked` (waiting on a resource) still runs. */
function runStateOf(state: number): GuestRunState {
  if (state === DomainState.running || state === DomainState.blocked) return 'running';
  return state === DomainState.paused ? 'paused' : 'other';
}

/** libvirtd's pid files: /run/libvirt/qemu for the system instance, unknown for the others. */
function defaultPidDir(uri: string): string | null {
  return /^qemu(\+unix)?:\/\/\/system(\?.*)?$/.test(uri) ? '/run/libvirt/qemu' : null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
