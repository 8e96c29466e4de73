// The JSON shapes the control API serves (docs/api.md): what the read model builds and what
// momctl reads. Memory is in KiB as everywhere inside momd; `time` is wall-clock ISO 8601 and
// `at` the engine's clock in seconds (the simulator's when the host is simulated).
import type { Outcome } from '../controllers/controller.js';
import type { TimelinePoint } from '../dashboard/timeline.js';
import type { Sample } from '../entities/entity.js';
import type { Json } from '../policy/values.js';

/** One control's outcome in a cycle: "<control> of <entity> was <outcome>". */
export interface DecisionView extends Omit<Outcome, 'desired' | 'reason'> {
  readonly time: string;
  readonly at: number;
  readonly reason: string | null;
}

export interface ErrorView {
  readonly time: string;
  /** What failed: a policy evaluation, a control, a policy set that was rejected. */
  readonly kind: 'evaluation' | 'control' | 'policy-rejected' | 'contention';
  readonly code: string | null;
  readonly message: string;
}

export interface CycleView {
  readonly time: string;
  readonly at: number;
  readonly durationMs: number;
  readonly status: 'done' | 'skipped' | 'policy-error';
  /** Why the cycle was skipped, or the policy's error. */
  readonly detail: string | null;
  readonly dryRun: boolean;
  readonly guests: number;
  readonly applied: number;
  readonly failed: number;
}

export interface PolicyView {
  readonly files: readonly string[];
  /** sha256 (hex) of the set: each file's name and text, in load order. */
  readonly hash: string;
  /** 'files': read from disk; 'api': set through PUT /v1/policy (kept in memory only). */
  readonly origin: 'files' | 'api';
  readonly loadedAt: string;
}

export interface PolicyFilesView extends PolicyView {
  readonly sources: ReadonlyArray<{ readonly name: string; readonly text: string }>;
}

export interface StatusView {
  readonly version: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeS: number;
  readonly backend: Readonly<Record<string, Json>>;
  /** Host capabilities found at start, and why each missing one is missing. */
  readonly capabilities: {
    readonly available: readonly string[];
    readonly missing: Record<string, string>;
  } | null;
  readonly policy: PolicyView | null;
  readonly lastPolicyRejection: { readonly time: string; readonly errors: string } | null;
  readonly lastCycle: CycleView | null;
  /**
   * Set while the policy keeps failing and the safe fallback acts (it gives guests memory back
   * slowly, shrinks nothing): since when, and how many evaluations in a row failed. Else null.
   */
  readonly policyFallback: { readonly since: string; readonly failures: number } | null;
  /**
   * Set during a contention episode (the host stalls and no guest can give more): since when,
   * the host's memory PSI full at its start, and the guests then. Else null.
   */
  readonly contention: {
    readonly since: string;
    readonly psiFull: number;
    readonly guests: readonly string[];
  } | null;
  /**
   * The guest momd paused for contention (contention-pause), since when and why; null when it
   * holds none paused. momd resumes it when the episode ends, or when it stops or reloads.
   */
  readonly paused: { readonly guest: string; readonly since: string; readonly reason: string } | null;
  readonly cycles: number;
  readonly dryRun: boolean;
  readonly verbosity: string;
  readonly guests: number;
  readonly recentErrors: readonly ErrorView[];
}

export interface SampleView {
  readonly time: string;
  readonly at: number;
  /** null when the entity's statistics were incomplete. */
  readonly sample: Sample | null;
}

export interface ControlsView {
  /** What the last successful evaluation set, as the policy set it. */
  readonly wanted: Readonly<Record<string, Json>>;
  /** The latest outcome of each control. */
  readonly applied: Readonly<Record<string, DecisionView>>;
}

export interface HostView extends ControlsView {
  readonly latest: SampleView | null;
  readonly history: readonly SampleView[];
}

/** One row of `momctl guests`: a guest's latest statistics, bounds and last action. */
export interface GuestRowView extends ControlsView {
  readonly name: string;
  readonly time: string | null;
  /** balloon_cur: the memory the guest has now. */
  readonly sizeKib: number | null;
  /** balloon_max: its maximum, or the configured ceiling when lower. */
  readonly ceilingKib: number | null;
  /** balloon_min: the floor no target goes under (0: none). */
  readonly floorKib: number | null;
  /** mem_usable: what the guest can use without swapping (MemAvailable). */
  readonly availableKib: number | null;
  readonly unusedKib: number | null;
  readonly cacheKib: number | null;
  readonly swapInRate: number | null;
  readonly swapOutRate: number | null;
  readonly stuck: boolean;
  readonly optOut: boolean;
  /** The latest outcome that was not 'unchanged', with its reason. */
  readonly lastAction: DecisionView | null;
}

export interface GuestDetailView extends GuestRowView {
  readonly latest: Sample | null;
  readonly history: readonly SampleView[];
}

/** What the event stream (GET /v1/events) sends, by SSE event name. */
export type StreamEvent =
  | {
      readonly event: 'cycle';
      readonly data: CycleView & {
        readonly host: Sample | null;
        readonly guestRows: readonly GuestRowView[];
      };
    }
  | { readonly event: 'decision'; readonly data: DecisionView }
  | {
      readonly event: 'policy';
      readonly data:
        | { readonly ok: true; readonly policy: PolicyView }
        | { readonly ok: false; readonly errors: string; readonly origin: 'files' | 'api' };
    }
  | { readonly event: 'settings'; readonly data: { readonly dryRun: boolean; readonly verbosity: string } }
  /** The dashboard's point of the cycle (src/dashboard/timeline.ts). */
  | { readonly event: 'timeline'; readonly data: TimelinePoint };
