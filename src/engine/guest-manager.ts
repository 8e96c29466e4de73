// The guest manager: keeps one monitor per running guest. Guests are discovered through the
// hypervisor; a guest that vanishes is dropped (normal churn, logged at info level) and its
// outcome log forgotten. Each collection is one bulk statistics call for every guest, plus the
// CPU and I/O tuning reads when those collectors are configured; the fields the engine works out
// itself (balloon_stuck, balloon_opt_out, the configured floors and ceilings) are added here.
import type { Logger } from 'pino';
import type { Sample } from '../entities/entity.js';
import type { GuestReading } from '../fields/catalogue.js';
import {
  HypervisorError,
  type GuestInfo,
  type Hypervisor,
  type TuningRequest,
} from '../hypervisors/hypervisor.js';
import type { ControlLog } from './control-log.js';
import { balloonBounds, limitFor, type GuestLimit } from './guest-limits.js';
import { Monitor, type FieldList } from './monitors.js';

export interface GuestMonitor {
  readonly guest: GuestInfo;
  readonly monitor: Monitor;
}

export interface GuestManagerOptions {
  readonly fields: FieldList;
  readonly historyLength: number;
  readonly limits: readonly GuestLimit[];
  readonly controlLog: ControlLog;
  /** Seconds a balloon may take to start moving toward a target before it is marked stuck. */
  readonly stuckTimeoutS: number;
  /** The tuning groups to read with the statistics (GuestCpuTune, GuestIoTune); none by default. */
  readonly tuning?: TuningRequest;
  /**
   * GuestQemuAgent: a guest whose balloon driver gives no memory statistics is asked through its
   * QEMU guest agent (the backend's guestAgentStats); false by default.
   */
  readonly agent?: boolean;
  readonly now: () => number;
  readonly log: Logger;
  /** Called with each guest sample collected (the engine's 'collection' event). */
  readonly onSample?: (guest: GuestInfo, sample: Sample | null) => void;
  /** Called when a guest starts being monitored, and when it is dropped (the engine's 'guest' event). */
  readonly onChange?: (guest: GuestInfo, change: 'appeared' | 'gone', reason?: string) => void;
}

export class GuestManager {
  private readonly monitors = new Map<string, GuestMonitor>();
  /** Guests whose tuning could not be read, with why: said once until it can be read again. */
  private readonly tuningTrouble = new Map<string, string>();
  /** The same for guests whose agent could not be reached. */
  private readonly agentTrouble = new Map<string, string>();

  constructor(
    private readonly hypervisor: Hypervisor,
    private readonly opts: GuestManagerOptions,
  ) {}

  /** Lists the running guests and starts/stops monitors to match. */
  async refresh(signal?: AbortSignal): Promise<void> {
    const running = await this.hypervisor.listGuests(signal);
    const seen = new Set<string>();
    for (const info of running) {
      seen.add(info.id);
      const known = this.monitors.get(info.id);
      if (known === undefined) {
        const monitor = new Monitor(
          info.name,
          this.opts.fields,
          this.opts.historyLength,
          this.opts.log,
          'MOM_W_GUEST_NOT_READY',
        );
        this.monitors.set(info.id, { guest: info, monitor });
        this.opts.log.info({ guest: info.name, uuid: info.uuid, pid: info.pid }, 'guest appeared');
        this.opts.onChange?.(info, 'appeared');
      } else if (known.guest.pid !== info.pid) {
        // Same guest, new QEMU (restarted): keep its history, note the new process.
        this.monitors.set(info.id, { guest: info, monitor: known.monitor });
      }
    }
    for (const [id, m] of this.monitors) {
      if (!seen.has(id)) this.drop(id, m, 'guest gone');
    }
  }

  /** Collects every monitored guest's statistics in one bulk request. */
  async collect(signal?: AbortSignal): Promise<void> {
    if (this.monitors.size === 0) return;
    const ids = [...this.monitors.keys()];
    const readings = await this.hypervisor.guestStats(ids, signal);
    const tuning = await this.readTuning(ids, signal);
    const agent = await this.readAgents(readings, signal);
    const now = this.opts.now();
    for (const [id, m] of this.monitors) {
      const r = readings.get(id);
      if (r === undefined) continue;
      if (r instanceof HypervisorError) {
        // A guest may stop between listing and collection: forget it until it is listed again.
        if (r.code === 'MOM_E_GUEST_GONE') this.drop(id, m, 'guest gone during collection');
        else {
          m.monitor.failed(`${r.code}: ${r.message}`);
          this.opts.onSample?.(m.guest, null);
        }
        continue;
      }
      const limit = limitFor(this.opts.limits, m.guest);
      const bounds = balloonBounds(r, limit);
      const stuck = this.opts.controlLog.observe(
        m.guest.name,
        'balloon_target',
        r.balloon_cur ?? null,
        now,
        this.opts.stuckTimeoutS,
      );
      if (stuck.changed) {
        if (stuck.stuck)
          this.opts.log.warn(
            {
              guest: m.guest.name,
              balloon_cur: r.balloon_cur ?? null,
              timeout_s: this.opts.stuckTimeoutS,
              code: 'MOM_W_BALLOON_STUCK',
            },
            `balloon of ${m.guest.name} has not moved toward its target in ${this.opts.stuckTimeoutS} s: marked stuck`,
          );
        else
          this.opts.log.info(
            { guest: m.guest.name },
            `balloon of ${m.guest.name} moves again: no longer stuck`,
          );
      }
      const viaAgent = agent.get(id);
      const memory = viaAgent === undefined ? r : { ...viaAgent, ...withoutNils(r) };
      const sample = m.monitor.record({ ...memory, ...tuning.get(id), ...bounds }, now, {
        balloon_stuck: stuck.stuck ? 1 : 0,
        balloon_opt_out: limit.optOut ? 1 : 0,
        shares: limit.shares,
      });
      this.opts.onSample?.(m.guest, sample);
    }
  }

  /**
   * The tuning fields of the guests, when configured. A guest whose tuning cannot be read keeps
   * those fields nil (its memory statistics still count), said once until it can be read again.
   */
  private async readTuning(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, GuestReading>> {
    const want = this.opts.tuning;
    if (want === undefined || (!want.cpu && !want.io) || this.hypervisor.guestTuning === undefined)
      return new Map();
    return this.readEach(ids, signal, (s) => this.hypervisor.guestTuning?.(ids, want, s), {
      trouble: this.tuningTrouble,
      again: (guest) => `tuning of ${guest} is read again`,
      failed: (guest, r) =>
        `cannot read the CPU or I/O tuning of ${guest} (its vcpu_* and io_tune fields stay nil): ${r.message}`,
    });
  }

  /**
   * GuestQemuAgent: the memory fields of the guests whose balloon driver gave none (no
   * mem_available), through their agents. The balloon's fields win where both exist; the agent's
   * fill only what the reading lacks (the reading's nils are dropped before the merge). A guest
   * whose agent cannot be reached keeps those fields nil, said once until it answers again.
   */
  private async readAgents(
    readings: ReadonlyMap<string, GuestReading | HypervisorError>,
    signal?: AbortSignal,
  ): Promise<Map<string, GuestReading>> {
    if (!this.opts.agent || this.hypervisor.guestAgentStats === undefined) return new Map();
    const ids = [...readings].flatMap(([id, r]) =>
      r instanceof HypervisorError || (r.mem_available !== null && r.mem_available !== undefined) ? [] : [id],
    );
    if (ids.length === 0) return new Map();
    return this.readEach(ids, signal, (s) => this.hypervisor.guestAgentStats?.(ids, s), {
      trouble: this.agentTrouble,
      again: (guest) => `the guest agent of ${guest} answers again`,
      failed: (guest, r) =>
        `${guest} gives no balloon statistics and its guest agent cannot be read (its memory fields stay nil): ${r.message}`,
    });
  }

  /**
   * One optional read for some guests (tuning, agent): the readings that came, by id. A guest
   * whose read failed is left out, said once per kind of failure (`trouble` remembers it), and said
   * again when it can be read again; a guest that is gone is left out silently. A whole call that
   * fails with a HypervisorError counts as that failure for every guest.
   */
  private async readEach(
    ids: readonly string[],
    signal: AbortSignal | undefined,
    read: (signal?: AbortSignal) => Promise<Map<string, GuestReading | HypervisorError>> | undefined,
    say: {
      readonly trouble: Map<string, string>;
      readonly again: (guest: string) => string;
      readonly failed: (guest: string, err: HypervisorError) => string;
    },
  ): Promise<Map<string, GuestReading>> {
    const out = new Map<string, GuestReading>();
    let got: Map<string, GuestReading | HypervisorError>;
    try {
      got = (await read(signal)) ?? new Map();
    } catch (err) {
      if (signal?.aborted || !(err instanceof HypervisorError)) throw err;
      got = new Map(ids.map((id) => [id, err]));
    }
    for (const [id, r] of got) {
      const guest = this.monitors.get(id)?.guest.name ?? id;
      if (!(r instanceof HypervisorError)) {
        out.set(id, r);
        if (say.trouble.delete(guest)) this.opts.log.info({ guest }, say.again(guest));
        continue;
      }
      if (r.code === 'MOM_E_GUEST_GONE' || say.trouble.get(guest) === r.code) continue;
      say.trouble.set(guest, r.code);
      this.opts.log.warn({ guest, code: 'MOM_W_BACKEND', error: r.code }, say.failed(guest, r));
    }
    return out;
  }

  /** Monitors of guests whose latest sample was complete. */
  readyMonitors(): GuestMonitor[] {
    return [...this.monitors.values()].filter((m) => m.monitor.isReady());
  }

  all(): GuestMonitor[] {
    return [...this.monitors.values()];
  }

  private drop(id: string, m: GuestMonitor, reason: string): void {
    this.monitors.delete(id);
    this.tuningTrouble.delete(m.guest.name);
    this.agentTrouble.delete(m.guest.name);
    this.opts.controlLog.forget(m.guest.name);
    this.opts.log.info({ guest: m.guest.name, reason }, 'guest removed');
    this.opts.onChange?.(m.guest, 'gone', reason);
  }
}

/** The fields of a reading that hold a value (a nil must not hide what the agent read). */
function withoutNils(r: GuestReading): GuestReading {
  return Object.fromEntries(
    Object.entries(r).filter(([, v]) => v !== null && v !== undefined),
  ) as GuestReading;
}
