// The guest manager: keeps one GuestMonitor per running guest. Guests are discovered through the
// hypervisor; a guest that vanishes is dropped (normal churn, logged at info level).
import type { Logger } from 'pino';
import type { GuestCollectorContext, GuestCollectorSpec } from '../collectors/collector.js';
import type { BalloonWatch } from './balloon-watch.js';
import { HypervisorError, type Hypervisor } from '../hypervisors/hypervisor.js';
import { GuestMonitor } from './monitors.js';

export class GuestManager {
  private readonly monitors = new Map<string, GuestMonitor>();

  constructor(
    private readonly hypervisor: Hypervisor,
    private readonly specs: readonly GuestCollectorSpec[],
    private readonly historyLength: number,
    private readonly log: Logger,
    private readonly ctx: GuestCollectorContext & { balloonWatch?: BalloonWatch } = {},
  ) {}

  /** Lists the running guests and starts/stops monitors to match. */
  async refresh(signal?: AbortSignal): Promise<void> {
    const running = await this.hypervisor.listGuests(signal);
    const seen = new Set<string>();
    for (const info of running) {
      seen.add(info.id);
      if (!this.monitors.has(info.id)) {
        this.monitors.set(
          info.id,
          new GuestMonitor(info, this.specs, this.historyLength, this.log, this.ctx),
        );
        this.log.info({ guest: info.name, uuid: info.uuid, pid: info.pid }, 'guest appeared');
      }
    }
    for (const [id, monitor] of this.monitors) {
      if (!seen.has(id)) this.drop(id, monitor, 'guest gone');
    }
  }

  /** Collects every monitored guest's statistics in one bulk request. */
  async collect(signal?: AbortSignal): Promise<void> {
    if (this.monitors.size === 0) return;
    const stats = await this.hypervisor.guestStats([...this.monitors.keys()], signal);
    for (const [id, monitor] of this.monitors) {
      const s = stats.get(id);
      if (s === undefined) continue;
      if (s instanceof HypervisorError) {
        // A guest may stop between listing and collection: forget it until it is listed again.
        if (s.code === 'guest-gone') this.drop(id, monitor, 'guest gone during collection');
        else
          this.log.warn(
            { guest: monitor.guest.name, code: s.code, err: s.message },
            'guest statistics failed',
          );
        continue;
      }
      monitor.collect(s);
    }
  }

  /** Monitors of guests whose latest sample was complete. */
  readyMonitors(): GuestMonitor[] {
    return [...this.monitors.values()].filter((m) => m.isReady());
  }

  all(): GuestMonitor[] {
    return [...this.monitors.values()];
  }

  private drop(id: string, monitor: GuestMonitor, reason: string): void {
    this.monitors.delete(id);
    this.ctx.balloonWatch?.forget(id);
    this.log.info({ guest: monitor.guest.name, reason }, 'guest removed');
  }
}
