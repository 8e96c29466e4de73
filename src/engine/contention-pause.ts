// The `pause` step of contention (contention.ts): once an episode has lasted `afterS` seconds,
// momd pauses ONE running guest, the one that matters least, and resumes it when the episode ends
// or the engine stops (a clean shutdown, a reload). A paused guest stops touching memory, so the
// host's reclaim can catch up. momd resumes only the guest it paused itself, never one paused by
// anyone else, and pauses at most one guest at a time.
import type { Logger } from 'pino';
import { HypervisorError, type Hypervisor } from '../hypervisors/hypervisor.js';
import { memoryRecord, type PauseRecord } from './pause-record.js';

export interface PauseSettings {
  /** contention-pause: whether the step is on. */
  readonly enabled: boolean;
  /** contention-pause-after: seconds into an episode before a guest is paused. */
  readonly afterS: number;
}

/** A guest that may be paused, with what ranks it. */
export interface PauseCandidate {
  readonly id: string;
  readonly name: string;
  /** Its weight (the `shares` field); null counts as the default, DEFAULT_SHARES. */
  readonly shares: number | null;
  /** Its QEMU process's resident memory (`rss`, KiB); null counts as 0. */
  readonly rssKib: number | null;
}

/** The shares of a guest without a [guest:NAME] section (the catalogue's default). */
export const DEFAULT_SHARES = 1000;

/**
 * The guests in the order they are considered for a pause: the lowest shares first (the weight the
 * administrator gave it: the one that matters least); among equal shares the largest resident
 * memory (the one whose pages, once it stops touching them, the host can reclaim the most of);
 * then by name, so that the choice never depends on listing order.
 */
export function pauseOrder(candidates: readonly PauseCandidate[]): PauseCandidate[] {
  return [...candidates].sort(
    (a, b) =>
      (a.shares ?? DEFAULT_SHARES) - (b.shares ?? DEFAULT_SHARES) ||
      (b.rssKib ?? 0) - (a.rssKib ?? 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/** What the step did, for the events (API, metrics). */
export type PauseChange =
  | {
      readonly change: 'paused';
      readonly guest: string;
      readonly shares: number;
      readonly rssKib: number | null;
      readonly reason: string;
    }
  | { readonly change: 'resumed'; readonly guest: string; readonly pausedS: number; readonly reason: string }
  /** The guest momd paused is gone (stopped, killed, migrated away): nothing to resume. */
  | { readonly change: 'gone'; readonly guest: string };

/** The episode as the step sees it this cycle. */
export interface EpisodeNow {
  /** When the episode started (engine seconds), or null when none is on. */
  readonly since: number | null;
  /** The host's memory PSI full avg10 now (percent), for the reason; null when unknown. */
  readonly psiFull: number | null;
}

/** Whether the backend can pause guests (declares `pause` and has the three calls). */
export function canPause(hv: Hypervisor): boolean {
  return (
    hv.capabilities.has('pause') &&
    hv.pause !== undefined &&
    hv.resume !== undefined &&
    hv.runState !== undefined
  );
}

export class ContentionPause {
  /** The guest momd paused and not yet resumed (engine seconds of the pause), or null. */
  private held: { readonly id: string; readonly name: string; readonly at: number } | null = null;
  /** The start of the episode in which a guest was paused (or a dry run said so): once per episode. */
  private doneFor: number | null = null;
  /** The latest failure, said at error level once, then at debug level while it repeats. */
  private lastFailure: string | null = null;

  constructor(
    private readonly hypervisor: Hypervisor,
    readonly settings: PauseSettings,
    private readonly log: Logger,
    private readonly onChange: (change: PauseChange) => void,
    /** Where the paused guest is noted, for a momd started after one that was killed. */
    private readonly record: PauseRecord = memoryRecord(),
  ) {}

  /** Whether the note of an earlier momd has been dealt with (see recover). */
  private recovered = false;

  /** The name of the guest momd keeps paused now, or null. */
  get paused(): string | null {
    return this.held?.name ?? null;
  }

  /**
   * One cycle at `at` (engine seconds): pauses a guest once the episode is old enough, resumes ours
   * once no episode is on. `candidates` are the guests known now (asked only when needed). Never
   * throws but for an aborted signal: a failure is logged and tried again at the next cycle.
   */
  async step(
    episode: EpisodeNow,
    at: number,
    candidates: () => PauseCandidate[],
    dryRun: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!this.recovered && canPause(this.hypervisor)) await this.recover(signal);
    if (episode.since === null) {
      this.doneFor = null;
      if (this.held !== null) await this.resumeHeld('the contention is over', at, signal);
      return;
    }
    if (!this.settings.enabled || !canPause(this.hypervisor)) return;
    if (this.held !== null || this.doneFor === episode.since) return;
    const lasted = at - episode.since;
    if (lasted < this.settings.afterS) return;
    const order = pauseOrder(candidates());
    const why = `contention for ${Math.round(lasted)} s${episode.psiFull === null ? '' : ` (host memory PSI full ${episode.psiFull}%)`}`;
    for (const g of order) {
      let running: boolean;
      try {
        running = (await this.hypervisor.runState?.(g.id, signal)) === 'running';
      } catch (err) {
        if (gone(err)) continue;
        return this.failed('pause', g.name, err, signal);
      }
      if (!running) continue; // paused by someone else, or on its way out: not ours to take
      const shares = g.shares ?? DEFAULT_SHARES;
      const facts = `shares ${shares}${g.rssKib === null ? '' : `, resident ${Math.round(g.rssKib / 1024)} MiB`}`;
      const reason = `${why}: ${g.name} is the running guest with the lowest priority (${facts}; ${order.length} guests)`;
      if (dryRun) {
        this.doneFor = episode.since;
        this.log.info(
          { guest: g.name, shares, rss: g.rssKib, dry_run: true },
          `dry run: would pause guest ${g.name}: ${reason}`,
        );
        return;
      }
      // Noted first: a momd killed between the pause and the note would leave the guest paused.
      try {
        this.record.save({ id: g.id, name: g.name });
      } catch (err) {
        this.doneFor = episode.since;
        this.log.error(
          { code: 'MOM_E_PAUSE_FAILED', guest: g.name, err: (err as Error).message },
          `contention: not pausing guest ${g.name}: cannot note it for a later momd (contention-pause-record): ${(err as Error).message}`,
        );
        return;
      }
      try {
        await this.hypervisor.pause?.(g.id, signal);
      } catch (err) {
        this.forget();
        if (gone(err)) continue;
        return this.failed('pause', g.name, err, signal);
      }
      this.held = { id: g.id, name: g.name, at };
      this.doneFor = episode.since;
      this.lastFailure = null;
      this.log.error(
        {
          code: 'MOM_E_CONTENTION_PAUSE',
          guest: g.name,
          shares,
          rss: g.rssKib,
          psi_full: episode.psiFull,
          episode_s: Math.round(lasted),
        },
        `contention: paused guest ${g.name}: ${reason}; it is resumed when the contention is over`,
      );
      this.onChange({ change: 'paused', guest: g.name, shares, rssKib: g.rssKib, reason });
      return;
    }
    this.doneFor = episode.since;
    this.log.error(
      { code: 'MOM_E_PAUSE_FAILED', guests: order.map((g) => g.name) },
      `contention: no guest to pause: none of the ${order.length} guests is running`,
    );
  }

  /**
   * Resumes the guest momd paused, if any (momd stops, or a reload replaces the engine). A failure
   * is logged and not thrown: the caller is on its way out.
   */
  async release(why: string, at: number, signal?: AbortSignal): Promise<void> {
    const name = this.held?.name;
    try {
      await this.resumeHeld(why, at, signal, true);
    } catch (err) {
      this.log.error(
        { code: 'MOM_E_PAUSE_FAILED', guest: name, err: (err as Error).message },
        `could not resume guest ${name}, paused by momd for contention: ${(err as Error).message}; it stays paused (virsh resume, or QMP cont)`,
      );
    }
  }

  private async resumeHeld(why: string, at: number, signal?: AbortSignal, last = false): Promise<void> {
    const held = this.held;
    if (held === null) return;
    try {
      await this.hypervisor.resume?.(held.id, signal);
    } catch (err) {
      if (!gone(err)) {
        if (last) throw err;
        return this.failed('resume', held.name, err, signal);
      }
      this.held = null;
      this.forget();
      this.log.warn(
        { code: 'MOM_W_CONTENTION_RESUME', guest: held.name },
        `guest ${held.name}, paused by momd for contention, is gone: nothing to resume`,
      );
      this.onChange({ change: 'gone', guest: held.name });
      return;
    }
    this.held = null;
    this.forget();
    this.lastFailure = null;
    const pausedS = Math.round(at - held.at);
    this.log.warn(
      { code: 'MOM_W_CONTENTION_RESUME', guest: held.name, paused_s: pausedS },
      `resumed guest ${held.name}, paused by momd for ${pausedS} s: ${why}`,
    );
    this.onChange({ change: 'resumed', guest: held.name, pausedS, reason: why });
  }

  /**
   * The note an earlier momd left: it paused that guest and was killed before resuming it. A guest
   * still paused is resumed; one that runs or is gone is only forgotten. Tried at every cycle until
   * it is dealt with.
   */
  private async recover(signal?: AbortSignal): Promise<void> {
    let noted: { id: string; name: string } | null;
    try {
      noted = this.record.load();
    } catch (err) {
      this.recovered = true;
      this.log.error(
        { code: 'MOM_E_PAUSE_FAILED', err: (err as Error).message },
        `contention: cannot read the note of a guest paused by an earlier momd (contention-pause-record): ${(err as Error).message}; a guest it paused stays paused (virsh resume, or QMP cont)`,
      );
      return;
    }
    if (noted === null) {
      this.recovered = true;
      return;
    }
    try {
      if ((await this.hypervisor.runState?.(noted.id, signal)) === 'paused') {
        await this.hypervisor.resume?.(noted.id, signal);
        this.log.warn(
          { code: 'MOM_W_CONTENTION_RESUME', guest: noted.name },
          `resumed guest ${noted.name}, paused for contention by an earlier momd that stopped without resuming it`,
        );
        this.onChange({
          change: 'resumed',
          guest: noted.name,
          pausedS: 0,
          reason: 'paused by an earlier momd that stopped without resuming it',
        });
      }
    } catch (err) {
      if (!gone(err)) return this.failed('resume', noted.name, err, signal);
    }
    this.recovered = true;
    this.forget();
  }

  /** Removes the note; a failure is logged (the next momd would find a guest that runs: harmless). */
  private forget(): void {
    try {
      this.record.clear();
    } catch (err) {
      this.log.warn(
        { code: 'MOM_W_CONTENTION_RESUME', err: (err as Error).message },
        `contention: cannot remove the note of the paused guest (contention-pause-record): ${(err as Error).message}`,
      );
    }
  }

  /** Logs a failed pause or resume (error level once, then debug while it repeats); rethrows an abort. */
  private failed(what: 'pause' | 'resume', guest: string, err: unknown, signal?: AbortSignal): void {
    if (signal?.aborted || !(err instanceof HypervisorError)) throw err;
    const message = `contention: could not ${what} guest ${guest}: ${err.message}${what === 'resume' ? ' (it stays paused; tried again at the next cycle)' : ''}`;
    const level = this.lastFailure === message ? 'debug' : 'error';
    this.lastFailure = message;
    this.log[level]({ code: 'MOM_E_PAUSE_FAILED', guest, err: err.message, err_code: err.code }, message);
  }
}

function gone(err: unknown): boolean {
  return err instanceof HypervisorError && err.code === 'MOM_E_GUEST_GONE';
}
