// The QMP backend: plain QEMU without libvirt (the Proxmox layout, /var/run/qemu-server/<vmid>.qmp).
// It finds guests by their QMP sockets, keeps one connection per socket across cycles, and asks
// each guest in parallel over its own connection. Framing is in client.ts, replies in commands.ts.
// CPU tuning has no QMP command: a guest's vCPU quota is the CFS limit of its QEMU's own CPU
// cgroup (linux/cpu-cgroup.ts), when it has one. That cgroup holds all of QEMU's threads, so the
// per-vCPU quota MOM speaks of is kept as quota × vCPUs for the whole process (Proxmox's cpulimit
// works the same way). Disk throttles are QMP's query-block and block_set_io_throttle. A pause is
// QMP's stop and cont; the run state is query-status's.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GuestReading } from '../../fields/catalogue.js';
import type { IoTuneDisk } from '../../fields/io-tune.js';
import { locateCpuCgroups, readCpuLimit, writeCpuLimit, type GuestCpuCgroup } from '../linux/cpu-cgroup.js';
import { readCmdline } from '../linux/process.js';
import { findPidBySocket, readQemuProcess } from '../linux/qemu-processes.js';
import { CollectionError, KernelWriteError, NotAvailable } from '../linux/read.js';
import {
  balloonTarget,
  checkCpuTune,
  checkIoTune,
  HypervisorError,
  type GuestInfo,
  type GuestRunState,
  type Hypervisor,
  type HypervisorCapability,
  type TuningRequest,
} from '../hypervisor.js';
import {
  agentSocketPath,
  MOM_AGENT_SOCKET,
  openSocketChannel,
  readAgentMemory,
} from '../guest-agent/agent.js';
import { QmpClient, QmpCommandError, QmpConnectError, type QmpRequestOptions } from './client.js';
import {
  balloonChangeKiB,
  contGuest,
  isBalloonChild,
  memoryOptionKiB,
  qomGetGuestStats,
  qomList,
  qomSet,
  queryBalloonKiB,
  queryMaxKiB,
  queryName,
  queryStatus,
  queryUuid,
  queryBlockThrottles,
  queryVcpuCount,
  setBalloon,
  setBlockThrottle,
  stopGuest,
  type GuestStatsKiB,
} from './commands.js';

export interface QmpOptions {
  /**
   * Where the guests' QMP sockets are: a directory and a file-name pattern in which `*` matches
   * any run of characters, e.g. `/var/run/qemu-server/*.qmp`. The directory has no wildcards.
   */
  socketGlob: string;
  /** Milliseconds to wait for each reply, and for a new connection's greeting (default 5000). */
  requestTimeoutMs?: number;
  /** How often QEMU asks each guest's balloon driver for statistics, in seconds (default 2). */
  statsPollingIntervalS?: number;
  /** The host's wall clock in seconds since the Unix epoch (default Date.now() / 1000). */
  now?: () => number;
  /** Called once per socket and kind of trouble (refused, no greeting, stopped answering, ...). */
  onWarning?: (message: string) => void;
  /** Where /proc is (default '/proc'), to find each QEMU's pid and resident memory. */
  procRoot?: string;
  /** Where the cgroup hierarchies are mounted (default '/sys/fs/cgroup'), for CPU limits. */
  cgroupRoot?: string;
  /**
   * Where each guest's QEMU guest agent socket is (GuestQemuAgent): MOM's `socket_path` and
   * `socket_name_template` (default /var/lib/libvirt/qemu and %(name)s.agent, MOM's own).
   */
  agentSocket?: { readonly socketPath: string; readonly socketNameTemplate: string };
}

/** The backend, plus what it remembers from QEMU's BALLOON_CHANGE events. */
export interface QmpBackend extends Hypervisor {
  /** The balloon size (KiB) and host time (Unix seconds) of the guest's latest BALLOON_CHANGE. */
  lastBalloonChange(id: string): { kib: number; atS: number } | null;
}

/** One guest: its socket, its connection and what we learned when connecting. */
interface Session {
  readonly client: QmpClient;
  readonly info: GuestInfo;
  status: string;
  /** False when QEMU has no balloon device (query-balloon: DeviceNotActive). */
  hasBalloon: boolean;
  /** The balloon device's QOM path, for guest-stats; null when not found or not supported. */
  statsPath: string | null;
  /**
   * balloon_max, asked once per connection (query-memory-size-summary, or `-m` on an old QEMU)
   * and again after a memory device is plugged or unplugged; undefined: not known yet.
   */
  maxKib: number | null | undefined;
  lastBalloonChange: { kib: number; atS: number } | null;
}

/**
 * Statuses in which there is no guest to manage: powered off but kept by -no-shutdown, not yet
 * started (-S, an incoming migration), or already migrated away.
 */
const NOT_LISTED = new Set(['shutdown', 'prelaunch', 'inmigrate', 'postmigrate']);

/** Events after which the guest's maximum memory may have changed (a DIMM plugged or unplugged). */
const MEMORY_DEVICE_EVENTS = new Set(['DEVICE_ADDED', 'DEVICE_DELETED', 'MEMORY_DEVICE_SIZE_CHANGE']);

const CAPABILITIES: ReadonlySet<HypervisorCapability> = new Set([
  'balloon',
  'guest-stats',
  'guest-pid',
  'cpu-tune',
  'io-tune',
  'pause',
  'guest-agent',
]);

export function createQmpBackend(opts: QmpOptions): QmpBackend {
  const dir = path.dirname(opts.socketGlob);
  const pattern = path.basename(opts.socketGlob);
  if (dir.includes('*') || pattern === '') {
    throw new HypervisorError(
      'MOM_E_INVALID_ARGUMENT',
      `qmp socket pattern ${opts.socketGlob}: only the file name may hold '*'`,
    );
  }
  const nameRe = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const pollingS = opts.statsPollingIntervalS ?? 2;
  const procRoot = opts.procRoot ?? '/proc';
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const nowS = opts.now ?? (() => Date.now() / 1000);
  const agentSocket = opts.agentSocket ?? MOM_AGENT_SOCKET;
  const sessions = new Map<string, Session>();
  const opening = new Map<string, Promise<Session>>();
  const warned = new Map<string, string>();
  let closed = false;

  /** Warns once per socket and kind of trouble; `ok` clears it so a relapse warns again. */
  const warn = (socket: string, kind: string, message: string): void => {
    if (warned.get(socket) === kind) return;
    warned.set(socket, kind);
    opts.onWarning?.(message);
  };
  const ok = (socket: string): void => {
    warned.delete(socket);
  };

  const drop = (id: string, session: Session): void => {
    if (sessions.get(id) === session) sessions.delete(id);
    void session.client.close();
  };

  async function scan(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        warn(dir, 'missing', `qmp: socket directory ${dir} does not exist: no guests`);
        return [];
      }
      throw new HypervisorError('MOM_E_TRANSPORT', `qmp: cannot list ${dir}: ${(err as Error).message}`);
    }
    ok(dir);
    const matching = names
      .filter((n) => nameRe.test(n) && !(n.startsWith('.') && !pattern.startsWith('.')))
      .sort();
    const sockets = await Promise.all(
      matching.map(async (n) => {
        const p = path.join(dir, n);
        const s = await stat(p).catch(() => null);
        return s?.isSocket() ? p : null;
      }),
    );
    return sockets.filter((p): p is string => p !== null);
  }

  async function open(socket: string): Promise<Session> {
    const client = await QmpClient.connect(socket, { timeoutMs });
    try {
      const [name, status, uuid, pid, balloon] = await Promise.all([
        queryName(client),
        queryStatus(client),
        queryUuid(client),
        findPidBySocket(procRoot, socket),
        findBalloon(client),
      ]);
      const fallbackName = path.basename(socket).replace(/\.[^.]*$/, '');
      const session: Session = {
        client,
        info: { id: socket, name: name ?? fallbackName, uuid, pid },
        status,
        hasBalloon: balloon.present,
        statsPath: balloon.qomPath,
        maxKib: undefined,
        lastBalloonChange: null,
      };
      if (session.statsPath !== null) {
        try {
          await qomSet(client, session.statsPath, 'guest-stats-polling-interval', pollingS);
        } catch (err) {
          if (!(err instanceof HypervisorError)) throw err;
          warn(socket, 'polling', `qmp: ${socket}: cannot enable balloon statistics: ${err.message}`);
        }
      }
      client.onEvent((e) => {
        if (MEMORY_DEVICE_EVENTS.has(e.event)) session.maxKib = undefined;
        if (e.event !== 'BALLOON_CHANGE') return;
        const kib = balloonChangeKiB(e.data);
        if (kib !== null) session.lastBalloonChange = { kib, atS: e.timestampS ?? nowS() };
      });
      client.onClose(() => {
        if (sessions.get(socket) === session) sessions.delete(socket);
      });
      return session;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /**
   * Finds the balloon device: none when query-balloon says DeviceNotActive; its QOM path for
   * guest-stats is /machine/peripheral/<id> (Proxmox: id=balloon0) or, without an id,
   * /machine/peripheral-anon/device[N].
   */
  async function findBalloon(client: QmpClient): Promise<{ present: boolean; qomPath: string | null }> {
    try {
      await queryBalloonKiB(client);
    } catch (err) {
      if (err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED')
        return { present: false, qomPath: null };
      throw err;
    }
    for (const parent of ['/machine/peripheral', '/machine/peripheral-anon']) {
      let children: Awaited<ReturnType<typeof qomList>>;
      try {
        children = await qomList(client, parent);
      } catch (err) {
        if (err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED') continue;
        throw err;
      }
      const balloons = children.filter((c) => isBalloonChild(c.type));
      const pick = balloons.find((c) => c.name === 'balloon0') ?? balloons[0];
      if (pick) return { present: true, qomPath: `${parent}/${pick.name}` };
    }
    warn(client.path, 'no-qom', `qmp: ${client.path}: balloon device not found in QOM: no guest statistics`);
    return { present: true, qomPath: null };
  }

  /** The session of a socket: the open one, after a health check, or a new connection. */
  async function refresh(socket: string): Promise<Session | null> {
    const existing = sessions.get(socket);
    if (existing) {
      try {
        existing.status = await queryStatus(existing.client);
        return existing;
      } catch (err) {
        if (!(err instanceof HypervisorError)) throw err;
        drop(socket, existing);
        if (err.code !== 'MOM_E_GUEST_GONE') {
          warn(socket, err.code, `qmp: ${socket}: stopped answering (${err.message}); connection closed`);
        }
        return null;
      }
    }
    let pending = opening.get(socket);
    if (!pending) {
      pending = open(socket).finally(() => opening.delete(socket));
      opening.set(socket, pending);
    }
    try {
      const session = await pending;
      if (closed) {
        await session.client.close();
        return null;
      }
      if (sessions.get(socket) !== session && !session.client.closed) sessions.set(socket, session);
      ok(socket);
      return session;
    } catch (err) {
      if (!(err instanceof HypervisorError)) throw err;
      if (err instanceof QmpConnectError && err.errno === 'ECONNREFUSED') {
        warn(socket, 'refused', `qmp: ${socket}: connection refused (stale socket?): guest omitted`);
      } else if (err.code !== 'MOM_E_GUEST_GONE' || !(err instanceof QmpConnectError)) {
        // Same kind as a dropped session's, so a hung QEMU warns once, not once per reconnection.
        warn(socket, err.code, `qmp: ${err.message}: guest omitted`);
      }
      return null;
    }
  }

  function sessionOf(id: string): Session {
    const s = sessions.get(id);
    if (s === undefined || s.client.closed) {
      throw new HypervisorError('MOM_E_GUEST_GONE', `qmp: no connection to guest ${id}`);
    }
    return s;
  }

  /**
   * One guest's reading. Requests go without the caller's signal: a public call races the signal
   * once (raceAbort) instead of hanging one abort listener per request on it, and a request left
   * behind ends by its reply or its timeout.
   */
  async function statsOf(id: string): Promise<GuestReading> {
    const s = sessionOf(id);
    const [cur, max, guest, proc] = await Promise.all([
      s.hasBalloon ? balloonOf(s) : null,
      maxOf(s),
      s.statsPath !== null ? guestStatsOf(s) : null,
      s.info.pid !== null ? readQemuProcess(procRoot, s.info.pid).catch(() => null) : null,
    ]);
    return {
      balloon_cur: cur,
      balloon_max: max,
      rss: proc?.rss ?? null,
      swapped: proc?.swapped ?? null,
      cpu_time: proc?.cpuMs ?? null,
      host_minor_faults: proc?.minorFaults ?? null,
      host_major_faults: proc?.majorFaults ?? null,
      ...(guest ?? {}),
    };
  }

  /** query-balloon; a device gone since we connected (hot-unplug) means null from now on. */
  async function balloonOf(s: Session): Promise<number | null> {
    try {
      return await queryBalloonKiB(s.client);
    } catch (err) {
      if (!(err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED')) throw err;
      s.hasBalloon = false;
      s.statsPath = null;
      return null;
    }
  }

  async function guestStatsOf(s: Session): Promise<GuestStatsKiB | null> {
    const qomPath = s.statsPath;
    if (qomPath === null) return null;
    try {
      return await qomGetGuestStats(s.client, qomPath, nowS());
    } catch (err) {
      if (!(err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED')) throw err;
      s.statsPath = null;
      warn(s.info.id, 'stats', `qmp: ${s.info.id}: guest-stats unavailable (${err.message})`);
      return null;
    }
  }

  /** query-memory-size-summary, or the `-m` argument on a QEMU older than 2.11; cached. */
  async function maxOf(s: Session, ro: QmpRequestOptions = {}): Promise<number | null> {
    if (s.maxKib !== undefined) return s.maxKib;
    let max: number | null;
    try {
      max = await queryMaxKiB(s.client, ro);
    } catch (err) {
      if (!(err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED')) throw err;
      const args = s.info.pid !== null ? await readCmdline(procRoot, s.info.pid).catch(() => null) : null;
      max = args !== null ? memoryOptionKiB(args) : null;
    }
    s.maxKib = max;
    return max;
  }

  /** Every connected guest's CPU cgroup, or why it has none of its own. */
  async function cpuCgroups(signal?: AbortSignal): Promise<Map<string, GuestCpuCgroup | HypervisorError>> {
    const infos = [...sessions.values()].map((s) => s.info);
    return locateCpuCgroups(procRoot, cgroupRoot, infos, signal);
  }

  /** query-cpus-fast; null on a QEMU without it. */
  async function vcpusOf(s: Session): Promise<number | null> {
    try {
      return await queryVcpuCount(s.client);
    } catch (err) {
      if (err instanceof HypervisorError && err.code === 'MOM_E_UNSUPPORTED') return null;
      throw err;
    }
  }

  /** One guest's tuning fields. */
  async function tuningOf(
    id: string,
    want: TuningRequest,
    cgroup: GuestCpuCgroup | HypervisorError | undefined,
  ): Promise<GuestReading> {
    const s = sessionOf(id);
    const out: { -readonly [K in keyof GuestReading]: GuestReading[K] } = {};
    if (want.cpu) {
      const vcpus = await vcpusOf(s);
      // Plain QEMU has no administrator's limit of its own: like libvirt without oVirt's, 100.
      out.vcpu_user_limit = 100;
      out.vcpu_count = vcpus;
      out.vcpu_quota = null;
      out.vcpu_period = null;
      if (cgroup === undefined || cgroup instanceof HypervisorError) {
        warn(
          `${id}#cpu`,
          'cpu-cgroup',
          `qmp: ${s.info.name}: no CPU limit can be read or set (${cgroup?.message ?? 'no cgroup'}): vcpu_quota and vcpu_period are nil`,
        );
      } else {
        try {
          const limit = await readCpuLimit(cgroup.dir, cgroup.version);
          out.vcpu_period = limit.periodUs;
          out.vcpu_quota = limit.quotaUs === null ? -1 : Math.floor(limit.quotaUs / (vcpus ?? 1));
        } catch (err) {
          if (!(err instanceof NotAvailable || err instanceof CollectionError)) throw err;
          warn(
            `${id}#cpu`,
            'cpu-cgroup',
            `qmp: ${s.info.name}: ${err.message}: vcpu_quota and vcpu_period are nil`,
          );
        }
      }
    }
    if (want.io) {
      const drives = await queryBlockThrottles(s.client);
      out.io_tune = drives.map((d): IoTuneDisk => ({
        name: d.name,
        path: d.path,
        guaranteed: {},
        maximum: {},
        current: d.current,
      }));
    }
    return out;
  }

  const assertOpen = (): void => {
    if (closed) throw new HypervisorError('MOM_E_CLOSED', 'qmp backend is closed');
  };

  return {
    name: 'qmp',
    capabilities: CAPABILITIES,

    async listGuests(signal) {
      assertOpen();
      signal?.throwIfAborted();
      const sockets = await scan();
      const present = new Set(sockets);
      for (const [id, s] of [...sessions]) if (!present.has(id)) drop(id, s);
      const found = await raceAbort(Promise.all(sockets.map(refresh)), signal);
      return found.filter((s): s is Session => s !== null && !NOT_LISTED.has(s.status)).map((s) => s.info);
    },

    async guestStats(ids, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const entries = Promise.all(
        ids.map(async (id): Promise<[string, GuestReading | HypervisorError]> => {
          try {
            return [id, await statsOf(id)];
          } catch (err) {
            if (err instanceof HypervisorError) return [id, err];
            throw err;
          }
        }),
      );
      return new Map(await raceAbort(entries, signal));
    },

    async setBalloonTarget(id, kib, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const s = sessionOf(id);
      if (!s.hasBalloon) throw new HypervisorError('MOM_E_UNSUPPORTED', `qmp: ${id}: no balloon device`);
      const target = balloonTarget(kib, { floor: null, max: await raceAbort(maxOf(s), signal) }, s.info.name);
      await raceAbort(setBalloon(s.client, target), signal);
      return target;
    },

    async guestAgentStats(ids, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const entries = Promise.all(
        ids.map(async (id): Promise<[string, GuestReading | HypervisorError]> => {
          try {
            const s = sessionOf(id);
            const channel = await openSocketChannel(agentSocketPath(agentSocket, s.info), { timeoutMs });
            try {
              return [id, await readAgentMemory(channel, s.info.name)];
            } finally {
              channel.close();
            }
          } catch (err) {
            if (err instanceof HypervisorError) return [id, err];
            throw err;
          }
        }),
      );
      return new Map(await raceAbort(entries, signal));
    },

    async guestTuning(ids, want, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const cgroups = want.cpu ? await cpuCgroups(signal) : new Map<string, never>();
      const entries = Promise.all(
        ids.map(async (id): Promise<[string, GuestReading | HypervisorError]> => {
          try {
            return [id, await tuningOf(id, want, cgroups.get(id))];
          } catch (err) {
            if (err instanceof HypervisorError) return [id, err];
            throw err;
          }
        }),
      );
      return new Map(await raceAbort(entries, signal));
    },

    async setCpuTune(id, settings, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const s = sessionOf(id);
      checkCpuTune(settings, s.info.name);
      const cgroup = (await cpuCgroups(signal)).get(id);
      if (cgroup === undefined) throw new HypervisorError('MOM_E_GUEST_GONE', `qmp: guest ${id} is gone`);
      if (cgroup instanceof HypervisorError) throw cgroup;
      const vcpus = (await raceAbort(vcpusOf(s), signal)) ?? 1;
      try {
        const now = await readCpuLimit(cgroup.dir, cgroup.version, { signal });
        const quota =
          settings.quota === undefined ? now.quotaUs : settings.quota < 0 ? null : settings.quota * vcpus;
        await writeCpuLimit(
          cgroup.dir,
          cgroup.version,
          { quotaUs: quota, periodUs: settings.period ?? now.periodUs },
          { signal },
        );
      } catch (err) {
        if (err instanceof NotAvailable) throw new HypervisorError('MOM_E_UNSUPPORTED', err.message);
        if (err instanceof KernelWriteError)
          throw new HypervisorError(
            err.errno === 'EINVAL' ? 'MOM_E_INVALID_ARGUMENT' : 'MOM_E_UNSUPPORTED',
            err.message,
          );
        if (err instanceof CollectionError) throw new HypervisorError('MOM_E_TRANSPORT', err.message);
        throw err;
      }
    },

    async setIoTune(id, disk, limits, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const s = sessionOf(id);
      checkIoTune(limits, `${s.info.name} disk ${disk}`);
      const drive = (await raceAbort(queryBlockThrottles(s.client), signal)).find((d) => d.name === disk);
      if (drive === undefined)
        throw new HypervisorError(
          'MOM_E_INVALID_ARGUMENT',
          `qmp: ${s.info.name}: no drive '${disk}' with a medium`,
        );
      try {
        await raceAbort(setBlockThrottle(s.client, drive.target, limits), signal);
      } catch (err) {
        // QEMU refuses values (a total and a read or write limit at once) with a GenericError.
        if (err instanceof QmpCommandError && err.code === 'MOM_E_TRANSPORT')
          throw new HypervisorError('MOM_E_INVALID_ARGUMENT', err.message);
        throw err;
      }
    },

    async runState(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      const s = sessionOf(id);
      s.status = await raceAbort(queryStatus(s.client), signal);
      return runStateOf(s.status);
    },

    async pause(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      await raceAbort(stopGuest(sessionOf(id).client), signal);
    },

    async resume(id, signal) {
      assertOpen();
      signal?.throwIfAborted();
      await raceAbort(contGuest(sessionOf(id).client), signal);
    },

    lastBalloonChange(id) {
      return sessions.get(id)?.lastBalloonChange ?? null;
    },

    async close() {
      closed = true;
      const all = [...sessions.values()];
      sessions.clear();
      const inFlight = await Promise.allSettled([...opening.values()]);
      for (const r of inFlight) if (r.status === 'fulfilled') all.push(r.value);
      await Promise.all(all.map((s) => s.client.close()));
    },
  };
}

/** QEMU's RunState (qapi/run-state.json) as a GuestRunState: `paused` is what `stop` leaves. */
function runStateOf(status: string): GuestRunState {
  return status === 'running' ? 'running' : status === 'paused' ? 'paused' : 'other';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolves with `p`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
