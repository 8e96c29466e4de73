// The engine's events: what the API, the metrics and the dashboard listen to, and how tests and
// the simulator's harness watch a run. Listeners never reach into the engine's state; an event
// carries everything they need. A listener that throws is reported and does not stop the cycle.
import { EventEmitter } from 'node:events';
import type { Capabilities, Outcome } from '../controllers/controller.js';
import type { Sample } from '../entities/entity.js';
import type { ControlsJson } from '../entities/snapshot.js';
import type { PolicySource } from '../policy/index.js';
import type { ContentionFacts } from './contention.js';
import type { PauseChange } from './contention-pause.js';
import type { CycleReport } from './cycle.js';

export interface EngineEventMap {
  /** What the backends can do, found at start (and again after a host reload). */
  capabilities: Capabilities;
  /** A host or guest sample; null when the entity's statistics were incomplete. */
  collection: {
    readonly scope: 'host' | 'guest';
    readonly entity: string;
    readonly at: number;
    readonly sample: Sample | null;
  };
  /**
   * A guest started or stopped being monitored: listed by the hypervisor for the first time, or
   * gone from its list (or found gone while collecting). Listeners that keep per-guest state drop
   * it on 'gone'.
   */
  guest: {
    readonly change: 'appeared' | 'gone';
    readonly entity: string;
    readonly at: number;
    readonly reason?: string;
  };
  /** A policy evaluation: the controls it set, or the error that cancelled them. */
  evaluation:
    | { readonly ok: true; readonly at: number; readonly controls: ControlsJson }
    | { readonly ok: false; readonly at: number; readonly code: string; readonly error: string };
  /** One control's outcome in a cycle. */
  outcome: Outcome & { readonly at: number };
  /** A policy cycle done (or skipped), with how long it took; dryRun: nothing was applied. */
  cycle: CycleReport & { readonly at: number; readonly durationMs: number; readonly dryRun: boolean };
  /**
   * A policy set loaded (its texts, and the sha256 of files and texts) or rejected. `origin` says
   * whether it came from the files on disk or from the control API (kept in memory only).
   */
  policy:
    | {
        readonly ok: true;
        readonly files: readonly string[];
        readonly sources: readonly PolicySource[];
        readonly hash: string;
        readonly origin: 'files' | 'api';
      }
    | { readonly ok: false; readonly errors: string; readonly origin: 'files' | 'api' };
  /**
   * A contention episode started (every guest gave all it can and the host still stalls: the
   * facts) or ended (after how long). The daemon runs the administrator's hook on both.
   */
  contention:
    | { readonly change: 'started'; readonly at: number; readonly facts: ContentionFacts }
    | { readonly change: 'ended'; readonly at: number; readonly durationS: number };
  /**
   * The pause step of contention (contention-pause): the guest momd paused, and why; resumed (the
   * episode is over, or momd stops); or gone while paused.
   */
  pause: PauseChange & { readonly at: number };
  /**
   * The daemon's run-time settings, emitted by the daemon when an engine starts and when one
   * changes (momd's command port): dry run (evaluate and log, apply nothing) and log verbosity.
   */
  settings: { readonly dryRun: boolean; readonly verbosity: string };
}

export type EngineEventName = keyof EngineEventMap;
export type Listener<K extends EngineEventName> = (event: EngineEventMap[K]) => void;

export class EngineEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    // Any number of listeners (API clients, metrics, dashboards) is expected, not a leak.
    this.emitter.setMaxListeners(0);
  }

  on<K extends EngineEventName>(name: K, listener: Listener<K>): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }

  emit<K extends EngineEventName>(name: K, event: EngineEventMap[K]): void {
    for (const l of this.emitter.listeners(name) as Listener<K>[]) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(name, err);
      }
    }
  }
}
