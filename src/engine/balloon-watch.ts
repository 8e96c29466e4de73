// Notices balloons that do not move toward their target: a guest without a balloon driver, or a
// frozen one. The Balloon controller reports each target it sets; the GuestBalloon collector asks
// each cycle and publishes the answer as the guest field `balloon_stuck`, so a policy can leave
// such a guest alone. Logged once per change of state.
import type { Logger } from 'pino';

interface Pending {
  target: number;
  /** Size when the target was set, or when we last saw the balloon move. */
  startCur: number;
  since: number;
  stuck: boolean;
}

export class BalloonWatch {
  private readonly pending = new Map<string, Pending>();

  constructor(
    /** Seconds a balloon may take to start moving toward its target. */
    private readonly timeoutS: number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** The controller set `target` for a guest whose balloon is `cur` now. */
  targetSet(id: string, target: number, cur: number | null): void {
    const prev = this.pending.get(id);
    this.pending.set(id, {
      target,
      startCur: cur ?? prev?.startCur ?? target,
      since: this.now(),
      // A stuck balloon stays stuck until it is seen moving.
      stuck: prev?.stuck ?? false,
    });
  }

  /** 1 when the guest's balloon has not moved toward its target within the timeout, else 0. */
  observe(id: string, name: string, cur: number | null): number {
    const p = this.pending.get(id);
    if (p === undefined) return 0;
    if (cur === null) return p.stuck ? 1 : 0;
    const tolerance = Math.max(1024, p.target * 0.01);
    const left = Math.abs(cur - p.target);
    if (left <= tolerance) {
      this.pending.delete(id);
      if (p.stuck) this.log.info({ guest: name }, 'balloon reached its target again: no longer stuck');
      return 0;
    }
    const moved = Math.abs(p.startCur - p.target) - left;
    if (moved > Math.max(tolerance, 0.1 * Math.abs(p.startCur - p.target))) {
      // Moving toward the target: restart the clock from here.
      if (p.stuck) this.log.info({ guest: name }, 'balloon moves again: no longer stuck');
      this.pending.set(id, { ...p, startCur: cur, since: this.now(), stuck: false });
      return 0;
    }
    if (!p.stuck && this.now() - p.since >= this.timeoutS) {
      p.stuck = true;
      this.log.warn(
        { guest: name, target: p.target, balloon_cur: cur, timeout_s: this.timeoutS },
        `balloon of ${name} has not moved toward its target in ${this.timeoutS} s: marked stuck`,
      );
    }
    return p.stuck ? 1 : 0;
  }

  forget(id: string): void {
    this.pending.delete(id);
  }
}
