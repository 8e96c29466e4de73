// The guest manager: keeps one monitor per running guest. Guests are discovered through the
// hypervisor; a guest that vanishes is dropped (normal churn, logged at info level) and its
// outcome log forgotten. Each collection is one bulk statistics call for every guest; the
// fields the engine works out itself (balloon_stuck, balloon_opt_out, the configured floors and
// ceilings) are added here.
import type { Logger } from 'pino';
import type { Sample } from '../entities/entity.js';
import { HypervisorError, type GuestInfo, type Hypervisor } from '../hypervisors/hypervisor.js';
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
  readonly now: () => number;
  readonly log: Logger;
  /** Called with each guest sample collected (the engine's 'collection' event). */
  readonly onSample?: (guest: GuestInfo, sample: Sample | null) => void;
  /** Called when a guest starts being monitored, and when it is dropped (the engine's 'guest' event). */
  readonly onChange?: (guest: GuestInfo, change: 'appeared' | 'gone', reason?: string) => void;
}

export class GuestManager {
  private readonly monitors = new Map<string, GuestMonitor>();

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
    const readings = await this.hypervisor.guestStats([...this.monitors.keys()], signal);
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
      const sample = m.monitor.record({ ...r, ...bounds }, now, {
        balloon_stuck: stuck.stuck ? 1 : 0,
        balloon_opt_out: limit.optOut ? 1 : 0,
        shares: limit.shares,
      });
      this.opts.onSample?.(m.guest, sample);
    }
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
    this.opts.controlLog.forget(m.guest.name);
    this.opts.log.info({ guest: m.guest.name, reason }, 'guest removed');
    this.opts.onChange?.(m.guest, 'gone', reason);
  }
}
