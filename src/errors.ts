// The one catalogue of error and warning codes. Every error momd raises carries one of these codes,
// and every warning it logs names one in its `code` field, so an administrator can look it up in
// docs/errors.md (a test checks that the two agree in both directions). Codes are stable: a code
// that is retired stays in RETIRED and is never given a new meaning.
import type { PolicyErrorCode } from './policy/diagnostics.js';

export interface CodeEntry {
  readonly level: 'error' | 'warning';
  /** What happened, in one line. */
  readonly meaning: string;
}

const E = (meaning: string): CodeEntry => ({ level: 'error', meaning });
const W = (meaning: string): CodeEntry => ({ level: 'warning', meaning });

export const CODES = {
  // Configuration and input.
  MOM_E_CONFIG: E(
    'the configuration has a malformed line or an invalid value; momd does not start (or, on SIGHUP, keeps the running configuration)',
  ),
  MOM_E_INPUT: E('an input file of momctl (a snapshot, an environment) cannot be read or is invalid'),
  MOM_E_SCENARIO: E('a simulator scenario file is invalid'),
  MOM_E_SETUP: E(
    'the configured collectors, controllers and settings do not fit together (an unknown name, a controller needing a field no collector gives)',
  ),
  // Policies (raised by src/policy with a FILE:LINE:COL position).
  MOM_E_POLICY_READ: E('a policy file or directory cannot be read'),
  MOM_E_POLICY_LEX: E('a policy holds a character or token the language does not have'),
  MOM_E_POLICY_SYNTAX: E('a policy is not well-formed (unbalanced parentheses, misplaced tokens)'),
  MOM_E_POLICY_STATIC: E(
    'a policy fails a check knowable without running it (unknown function, wrong arity)',
  ),
  MOM_E_POLICY_EVAL: E(
    'evaluating a policy failed (an undefined name, arithmetic on nil, a type error); nothing is applied that cycle',
  ),
  MOM_E_POLICY_BUDGET: E('a policy ran past its step or depth budget; nothing is applied that cycle'),
  // Backends (HypervisorError).
  MOM_E_GUEST_GONE: E('the guest no longer exists or stopped running (normal churn, not a fault)'),
  MOM_E_TIMEOUT: E('the hypervisor or a kernel interface did not answer in time'),
  MOM_E_UNSUPPORTED: E(
    'the hypervisor, the guest or the host lacks what the request needs (no balloon device, no KSM)',
  ),
  MOM_E_TRANSPORT: E(
    'talking to the hypervisor failed (libvirtd down, a broken QMP conversation, an unexpected reply)',
  ),
  MOM_E_INVALID_ARGUMENT: E(
    'a backend was asked for an impossible value (a negative or non-finite balloon target)',
  ),
  MOM_E_CLOSED: E('a backend was used after it was closed'),
  // The Linux host's files.
  MOM_E_HOST_READ: E('a /proc, sysfs or cgroup file does not hold what the kernel documents'),
  MOM_E_NOT_AVAILABLE: E(
    'a /proc, sysfs or cgroup file does not exist (the feature is not in this kernel or is off)',
  ),
  MOM_E_PROCESS_GONE: E("a guest's QEMU process exited while it was being read"),
  MOM_E_KERNEL_WRITE: E('the kernel refused a value written to a sysfs or cgroup file'),
  // The daemon.
  MOM_E_CONTROLLER: E('a controller failed in an unexpected way; the other controllers still ran'),
  MOM_E_TASK: E(
    'a periodic task (guest listing, statistics collection) failed; it is retried at its next run',
  ),
  MOM_E_TASK_TIMEOUT: E(
    'a periodic task did not end within task-timeout seconds (a hung call): it is left behind and not started again until it ends; the other tasks go on',
  ),
  MOM_E_CONTENTION: E(
    'contention: the host stalls (memory PSI full over contention-psi-full) while every guest is at its floor or short of memory; ballooning cannot help, contention-hook is run',
  ),
  MOM_E_CONTENTION_PAUSE: E(
    'contention-pause: a contention episode lasted contention-pause-after seconds, and momd paused the running guest with the lowest priority until it ends',
  ),
  MOM_E_PAUSE_FAILED: E(
    'contention-pause: momd could not pause a guest (none running, the backend failed, or contention-pause-record cannot be written), or could not resume the guest it paused',
  ),
  MOM_E_POLICY_FALLBACK: E(
    'the policy failed policy-fallback-after cycles in a row: the safe fallback gives every guest its memory back slowly, shrinks nothing and sets no host knob, until the policy evaluates again',
  ),
  MOM_E_FATAL: E('an unexpected error ended momd; KSM (and zswap) settings were restored on the way out'),
  MOM_E_PID_FILE: E('the --pid-file cannot be written, or a running momd holds it; momd does not start'),
  // The control API.
  MOM_E_API: E(
    'the control API cannot start (socket folder, a socket another momd answers on, the token or TLS files); momd does not start',
  ),
  MOM_E_API_UNREACHABLE: E('momctl: no momd answers on the socket or URL it was given or found'),
  MOM_E_API_REQUEST: E('momctl: momd refused a request (the message is its answer)'),
  MOM_E_RECORDING: E(
    'momctl replay: a recording cannot be read (no such folder, no recording in it, a malformed line at FILE:LINE) or holds no cycle in the range asked',
  ),
  MOM_E_LISTEN: E('a server momd is configured to start (metrics-listen) cannot listen on its address'),

  MOM_W_CONFIG: W(
    'the configuration holds a key or section momd ignores, a key that has no effect here, or a name it reads as another',
  ),
  MOM_W_NO_POLICY: W('no policy is in force: momd collects statistics and applies nothing'),
  MOM_W_POLICY_REJECTED: W('a new policy does not parse or check; the previous one stays in force'),
  MOM_W_CONTENTION_OVER: W(
    'a contention episode is over: host memory PSI full has been calm for contention-after seconds',
  ),
  MOM_W_CONTENTION_RESUME: W(
    'momd resumed the guest it paused for contention (the episode is over, or momd stops or reloads; or an earlier momd paused it and was killed), or that guest is gone',
  ),
  MOM_W_PAUSE_MISSING: W(
    'contention-pause is on but the hypervisor backend cannot pause guests (the simulated host): contention never pauses a guest',
  ),
  MOM_W_HOOK: W('the contention hook could not be run, failed, or did not end within 30 s'),
  MOM_W_POLICY_FALLBACK_OVER: W(
    'the policy evaluates again after the safe fallback: the policy is in charge',
  ),
  MOM_W_HOST_NOT_READY: W("the host's statistics are incomplete: policy cycles are skipped until they are"),
  MOM_W_GUEST_NOT_READY: W(
    "a guest's statistics lack its balloon size: it is left out of Guests until they come",
  ),
  MOM_W_KSM_MISSING: W('this host has no KSM: the ksm_* fields are nil and the KSM controller does nothing'),
  MOM_W_PSI_MISSING: W('this host has no pressure stall information: the psi_* fields are nil'),
  MOM_W_KSMD_MISSING: W('no ksmd thread was found: ksmd_cpu_usage is nil'),
  MOM_W_ZSWAP_MISSING: W(
    'this host has no zswap: the zswap_* fields are nil and the Zswap controller does nothing',
  ),
  MOM_W_CGROUP_LIMITS_MISSING: W(
    'guest memory cgroups cannot be limited here: the CgroupLimit controller does nothing',
  ),
  MOM_W_TUNING_MISSING: W(
    'the hypervisor backend cannot read or set CPU or I/O tuning: the vcpu_* or io_tune fields are nil and the CpuTune or IoTune controller does nothing',
  ),
  MOM_W_AGENT_MISSING: W(
    'GuestQemuAgent is configured but the hypervisor backend cannot reach guest agents: a guest without balloon statistics keeps its memory fields nil',
  ),
  MOM_W_BALLOON_STUCK: W(
    'a balloon has not moved toward its target in balloon-stuck-timeout seconds: the guest is marked balloon_stuck',
  ),
  MOM_W_CONTROL_FAILED: W(
    'a control could not be applied this cycle (the reason says why); it is tried again',
  ),
  MOM_W_CONTROL_UNHANDLED: W(
    'the policy sets a control that no configured controller applies: it does nothing',
  ),
  MOM_W_API_SOCKET_FALLBACK: W(
    'the default API socket folder (/run/momd) cannot be made or written: the socket is in a per-user folder instead',
  ),
  MOM_W_DASHBOARD: W(
    'the dashboard page was not built (dist/dashboard/ is missing): the API works, the page at / answers 503',
  ),
  MOM_W_DRY_RUN: W('dry run is on: the policy is evaluated and logged, and nothing is applied'),
  MOM_W_BACKEND: W(
    'the backend met trouble with one guest or socket (refused, unanswered, no statistics); logged once per kind',
  ),
  MOM_W_NOTIFY: W(
    'NOTIFY_SOCKET is set but systemd cannot be told of readiness or the watchdog (systemd-notify fails)',
  ),
  MOM_W_PLOT: W('a plot-dir or plot file cannot be made or written: momd runs on without that plot'),
  MOM_W_RECORD_WRITE: W(
    'the recording (record-dir) cannot be written (disk full, folder gone or not writable): its cycles are dropped and it is tried again every 30 s; momd goes on',
  ),
  MOM_W_RECORD_TRUNCATED: W(
    'a recording file ends in a line cut short (momd was stopped while writing or compressing it): that line is skipped',
  ),
  MOM_W_NO_FORK: W(
    '-d/--daemon was given: momd does not fork and stays in the foreground, as a systemd service should',
  ),
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof CODES;

/** Codes that were once in use and must never be given another meaning. */
export const RETIRED: readonly string[] = [];

// The policy package keeps its own codes (it is not touched by the rest of the daemon); they must
// be in the catalogue.
const _policyCodesAreCatalogued: PolicyErrorCode extends ErrorCode ? true : never = true;
void _policyCodesAreCatalogued;

/** An error that carries a catalogue code. */
export class MomError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MomError';
  }
}

/** The catalogue code of any thrown value: its own when it has one, else MOM_E_FATAL. */
export function codeOf(err: unknown): ErrorCode {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && code in CODES) return code as ErrorCode;
  }
  return 'MOM_E_FATAL';
}
