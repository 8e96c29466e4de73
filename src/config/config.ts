// momd's configuration: MOM's mom.conf, read so that an existing MOM configuration works unchanged,
// checked key by key into a typed MomConfig. Every problem is collected and reported at once, each
// naming where it came from (FILE:LINE, or the override's SECTION.KEY). See docs/configuration.md.
//
// Validation is hand-written rather than done with zod: each key needs its own message naming the
// file, line, section, key and value, and a few need context (the file's directory for paths).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MomError } from '../errors.js';
import { GUEST_GROUPS, HOST_GROUPS, type GuestGroup, type HostGroup } from '../fields/catalogue.js';
import { DEFAULT_SECTION, formatIniProblem, interpolate, parseIni, quote } from './ini.js';
import type { IniDocument, IniEntry, IniSection } from './ini.js';
import {
  boolean,
  integer,
  libvirtUri,
  listenAddress,
  logTarget,
  nameList,
  oneOf,
  optionalPath,
  byteSize,
  positiveNumber,
  rotateInterval,
  rpcPort,
  scenario,
  numberIn,
  seconds,
  size,
} from './values.js';
import type { ListenAddress, ListEntryRule, RotateInterval, RpcEndpoint, ValueParser } from './values.js';
import { DEFAULT_API_SOCKET } from '../api/socket-path.js';

export type { ListenAddress, RpcEndpoint } from './values.js';

export type HypervisorInterface = 'simulated' | 'libvirt' | 'qmp';
export type ControllerName = 'Balloon' | 'KSM' | 'Zswap' | 'CgroupLimit' | 'CpuTune' | 'IoTune';
/** MOM's collector names: the field catalogue's groups (src/fields/catalogue.ts). */
export type HostCollectorName = HostGroup;
/** A field group, or MOM's GuestQemuAgent (GuestMemory's fields through the guest agent). */
export type GuestCollectorName = GuestGroup | 'GuestQemuAgent';
/** MOM's levels; `warning` and the numbers 5..1 are read as these. */
export type Verbosity = 'debug' | 'info' | 'warn' | 'error' | 'critical';

export interface MomConfig {
  /** The configuration file, absolute; null when the configuration came from text or defaults only. */
  readonly file: string | null;
  readonly main: {
    /** Seconds between checks of the daemon's own health. */
    readonly mainLoopInterval: number;
    /** Seconds between host statistics collections. */
    readonly hostMonitorInterval: number;
    /** Seconds between guest statistics collections. */
    readonly guestMonitorInterval: number;
    /** Seconds between refreshes of the guest list. */
    readonly guestManagerInterval: number;
    /** Seconds between policy evaluations. */
    readonly policyEngineInterval: number;
    readonly hypervisorInterface: HypervisorInterface;
    /** Only controllers momd implements; names MOM has and we lack are dropped with a warning. */
    readonly controllers: ControllerName[];
    /** Samples kept per statistic, at least 1. */
    readonly sampleHistoryLength: number;
    /** A policy file, absolute; null when none. Loaded first. */
    readonly policy: string | null;
    /** A directory whose `*.policy` files are loaded in name order after `policy`; null when none. */
    readonly policyDir: string | null;
    /** A directory for plot files, absolute; null when plotting is off. */
    readonly plotDir: string | null;
    /** The folder policy cycles are recorded in (docs/record-replay.md), absolute; null when off. */
    readonly recordDir: string | null;
    /** A recording file is rotated (and gzip-compressed) once it reaches this many bytes. */
    readonly recordMaxSize: number;
    /** Rotated recording files kept; the oldest beyond this are deleted. */
    readonly recordMaxFiles: number;
    /** The recording file is also rotated at this age ('1d', '6h'); null: by size only. */
    readonly recordRotateEvery: RotateInterval | null;
    /** MOM's XML-RPC server: a TCP port on 127.0.0.1 or a unix socket; null when off (-1). */
    readonly rpcPort: RpcEndpoint | null;
    /** The libvirt connection URI; never empty. */
    readonly libvirtHypervisorUri: string;
    /** Accepted for MOM compatibility; momd does not use it. */
    readonly guestManagerMultiThread: boolean;
    /** A built-in scenario's name, or an absolute path to a scenario file. */
    readonly simulatorScenario: string;
    readonly simulatorSeed: number;
    /** Simulated seconds per real second, > 0. */
    readonly simulatorSpeed: number;
    /** Absolute glob of QMP sockets (hypervisor-interface qmp). */
    readonly qmpSocketGlob: string;
    /** A memory cgroup directory standing for the host, absolute; null: the whole machine. */
    readonly hostMemorySource: string | null;
    /** Seconds before a balloon that does not move is marked stuck. */
    readonly balloonStuckTimeout: number;
    /** Failed policy evaluations in a row before the safe fallback; 0: never (hold). */
    readonly policyFallbackAfter: number;
    /** Restore the KSM settings found at start when momd stops. */
    readonly ksmRestoreOnExit: boolean;
    /** Give every guest its maximum memory back when momd stops cleanly. */
    readonly deflateOnExit: boolean;
    /** Real seconds a periodic task may run before it is left behind; 0: no limit. */
    readonly taskTimeout: number;
    /** Host memory PSI full avg10 (percent) that, with every guest exhausted, is contention; 0: off. */
    readonly contentionPsiFull: number;
    /** Seconds the contention condition must hold (and calm must last before it ends). */
    readonly contentionAfter: number;
    /** The command run when contention starts and ends (absolute path), or null. */
    readonly contentionHook: string | null;
    /** Pause the running guest with the lowest priority during a contention episode. */
    readonly contentionPause: boolean;
    /** Seconds into a contention episode before that guest is paused. */
    readonly contentionPauseAfter: number;
    /** The file noting the guest momd paused, for a momd started after one that was killed; null: none. */
    readonly contentionPauseRecord: string | null;
    /** Seconds between looks at the host's memory pressure between cycles; 0: none. */
    readonly pressureCheckInterval: number;
    /** Freeable memory fraction under which a look runs a cycle at once. */
    readonly pressureWakeFree: number;
    /** Whether policies may drive KSM; 'auto': only when the host is the whole machine. */
    readonly ksmOwned: 'auto' | boolean;
    /** Whether momd may drive zswap (machine-wide); its settings are put back when it lets go. */
    readonly zswapOwned: boolean;
    /** Evaluate and log, apply nothing. */
    readonly dryRun: boolean;
    /** The control API's unix socket, absolute; null: no socket. */
    readonly apiSocket: string | null;
    /** The control API's TCP address; null: no TCP listener. */
    readonly apiListen: ListenAddress | null;
    /** The file holding the bearer token the TCP listener requires, absolute; null when none. */
    readonly apiTokenFile: string | null;
    /** PEM certificate and key for HTTPS on the TCP listener, absolute; null: plain HTTP. */
    readonly apiTlsCert: string | null;
    readonly apiTlsKey: string | null;
    /** Where /metrics is served (Prometheus text format); null: not served. */
    readonly metricsListen: ListenAddress | null;
  };
  readonly logging: {
    /** `stdio`, or an absolute log file path. */
    readonly log: string;
    readonly verbosity: Verbosity;
    /** Size at which the log file is rotated; 0 never rotates. */
    readonly maxBytes: number;
    /** Rotated log files kept. */
    readonly backupCount: number;
  };
  readonly host: { readonly collectors: HostCollectorName[] };
  readonly guest: {
    readonly collectors: GuestCollectorName[];
    /**
     * Where GuestQemuAgent finds each guest's agent socket on plain QEMU: [Collector:
     * GuestQemuAgent]'s socket_path and socket_name_template (MOM's keys and defaults).
     */
    readonly agentSocket: { readonly socketPath: string; readonly socketNameTemplate: string };
  };
  /** Per-guest bounds from the [guest:NAME] sections, in file order. */
  readonly guests: readonly GuestSettings[];
}

/** One [guest:NAME] section: bounds no policy can cross, for the guest with that name or uuid. */
export interface GuestSettings {
  readonly match: string;
  /** The balloon never goes under this (KiB); null: no configured floor. */
  readonly floorKib: number | null;
  /** The balloon never goes over this (KiB); null: the guest's maximum. */
  readonly ceilingKib: number | null;
  /** false: momd never moves this guest's balloon. */
  readonly balloon: boolean;
  /** Relative weight when memory is handed out (VMware's shares): more keeps more. Default 1000. */
  readonly shares: number;
}

export interface LoadConfigOptions {
  /** The configuration file. With `text` too, only its name (for messages) and directory are used. */
  file?: string;
  /** The configuration's text. */
  text?: string;
  /** `section.key` → value, applied after the file (from command-line flags); taken literally. */
  overrides?: Record<string, string>;
}

export interface LoadedConfig {
  config: MomConfig;
  /** One line each: unknown sections and keys, ignored plugins, ... */
  warnings: string[];
}

/** Every invalid value and malformed line, one per line of `message`. */
export class ConfigError extends MomError {
  constructor(
    readonly problems: readonly string[],
    readonly warnings: readonly string[] = [],
  ) {
    super('MOM_E_CONFIG', problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export type SectionName = 'main' | 'logging' | 'host' | 'guest';
export const SECTIONS: readonly SectionName[] = ['main', 'logging', 'host', 'guest'];

export interface ConfigKey {
  readonly section: SectionName;
  readonly key: string;
  /** The default, as it would be written in the file. */
  readonly default: string;
  /** Whose key it is: MOM's, or one momd adds. */
  readonly origin: 'MOM' | 'momd';
  /** What it means, as comment lines for the example file. */
  readonly doc: readonly string[];
}

const KEY = (
  section: SectionName,
  key: string,
  def: string,
  origin: 'MOM' | 'momd',
  ...doc: string[]
): ConfigKey => ({ section, key, default: def, origin, doc });

/** Every key momd reads, in the order of the example file. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  KEY(
    'main',
    'main-loop-interval',
    '5',
    'MOM',
    'How often the main loop checks that the daemon is healthy (seconds).',
  ),
  KEY('main', 'host-monitor-interval', '5', 'MOM', 'How often host statistics are collected (seconds).'),
  KEY(
    'main',
    'guest-monitor-interval',
    '5',
    'MOM',
    "How often each guest's statistics are collected (seconds).",
  ),
  KEY(
    'main',
    'guest-manager-interval',
    '5',
    'MOM',
    'How often the list of guests is refreshed (seconds): new guests start',
    'being monitored, guests that are gone are forgotten.',
  ),
  KEY(
    'main',
    'policy-engine-interval',
    '10',
    'MOM',
    'How often the policy is evaluated and its controls applied (seconds).',
  ),
  KEY(
    'main',
    'hypervisor-interface',
    'libvirt',
    'MOM',
    'How momd finds guests and reads their statistics: libvirt, qmp or',
    'simulated (a built-in simulated host). With no configuration file at',
    "all, momd uses simulated. MOM's vdsm interfaces (vdsm, vdsmjsonrpcbulk, ...)",
    'are read as libvirt on this host, with a warning.',
  ),
  KEY(
    'main',
    'libvirt-hypervisor-uri',
    'qemu:///system',
    'MOM',
    'The libvirt connection URI, for hypervisor-interface libvirt.',
    'Empty means qemu:///system.',
  ),
  KEY(
    'main',
    'controllers',
    'Balloon, KSM, Zswap',
    'MOM',
    'Comma-separated controllers to enable: Balloon, KSM, (momd) Zswap, CgroupLimit,',
    'CpuTune, IoTune (they need the GuestCpuTune and GuestIoTune collectors). Zswap does',
    'nothing unless zswap-owned is true. MOM has no Zswap: its default is Balloon, KSM.',
  ),
  KEY(
    'main',
    'sample-history-length',
    '10',
    'MOM',
    'How many samples of each statistic are kept for averages (at least 1).',
  ),
  KEY(
    'main',
    'policy',
    '',
    'MOM',
    'A policy file to load at startup. Empty: none. Relative paths here and',
    'below are relative to the directory of this file.',
  ),
  KEY(
    'main',
    'policy-dir',
    '',
    'MOM',
    'A directory whose *.policy files are loaded in name order, after',
    'policy when both are set. Empty: none.',
  ),
  KEY(
    'main',
    'plot-dir',
    '',
    'MOM',
    'A writable directory for plot files of all collected data.',
    'Empty: no plots.',
  ),
  KEY(
    'main',
    'record-dir',
    '',
    'momd',
    'A folder to record every policy cycle in (made when missing): the',
    'statistics, the controls the policy set and what was done, for',
    '`momctl replay` and the dashboard (docs/record-replay.md). Empty: off.',
  ),
  KEY(
    'main',
    'record-max-size',
    '64M',
    'momd',
    'The recording file is rotated and gzip-compressed once it reaches this',
    'size: bytes, or a number followed by K, M or G.',
  ),
  KEY(
    'main',
    'record-max-files',
    '16',
    'momd',
    'How many rotated recording files are kept; the oldest beyond this',
    'are deleted at each rotation.',
  ),
  KEY(
    'main',
    'record-rotate-every',
    '1d',
    'momd',
    'The recording file is also rotated at this age, whatever its size: a',
    'number of days (1d, 7d) or hours dividing a day (1h, 2h, 3h, 4h, 6h,',
    '8h, 12h). With record-max-files this bounds how far back it goes.',
    'Empty: by size only.',
  ),
  KEY(
    'main',
    'rpc-port',
    '-1',
    'MOM',
    "MOM's XML-RPC server (what oVirt's vdsm talks to, docs/xmlrpc.md):",
    'a port number listens on 127.0.0.1 only; any other text is the',
    'path of a unix socket (created 0600). -1 (any negative) turns it off.',
  ),
  KEY('main', 'guest-manager-multi-thread', 'true', 'MOM', "Accepted for MOM's sake; momd ignores it."),
  KEY(
    'main',
    'simulator-scenario',
    'small',
    'momd',
    '(momd) The simulated host for hypervisor-interface simulated: a',
    'built-in scenario name, or the path of a scenario file.',
  ),
  KEY(
    'main',
    'simulator-seed',
    '1',
    'momd',
    "(momd) The seed of the simulator's random numbers (an integer).",
  ),
  KEY('main', 'simulator-speed', '1', 'momd', '(momd) Simulated seconds per real second (a number > 0).'),
  KEY(
    'main',
    'qmp-socket-glob',
    '/var/run/qemu-server/*.qmp',
    'momd',
    '(momd) For hypervisor-interface qmp: the QMP sockets of the guests (a * in the file name).',
  ),
  KEY(
    'main',
    'host-memory-source',
    '',
    'momd',
    '(momd) Empty: the host is the whole machine. A memory cgroup path: its limit is the',
    "host's total and its usage the host's used memory (a budget for the guests).",
  ),
  KEY(
    'main',
    'balloon-stuck-timeout',
    '60',
    'momd',
    '(momd) Seconds a balloon may go without being seen at or moving toward its target',
    'before the guest is marked balloon_stuck.',
  ),
  KEY(
    'main',
    'policy-fallback-after',
    '3',
    'momd',
    '(momd) Failed policy evaluations in a row after which momd falls back to a safe behaviour:',
    'each cycle every guest gets 5% of its maximum memory back, nothing shrinks and no host knob',
    'is set, until the policy evaluates again (said loudly: log, status, metrics). A failure',
    'before that applies nothing. 0: never fall back, hold for as long as the policy fails.',
  ),
  KEY(
    'main',
    'ksm-restore-on-exit',
    'true',
    'momd',
    '(momd) Put back the KSM settings found at start when momd stops.',
  ),
  KEY(
    'main',
    'contention-psi-full',
    '10',
    'momd',
    '(momd) Contention: when the host memory PSI full (avg10, percent) stays at or over this for',
    'contention-after seconds while every guest is at its floor or short of memory (swapping in),',
    'ballooning cannot help: momd says so at error level, in status and metrics, and runs',
    'contention-hook. It ends when PSI full stays under half of this as long. 0: never.',
  ),
  KEY('main', 'contention-after', '30', 'momd', '(momd) Seconds for contention-psi-full (see there).'),
  KEY(
    'main',
    'contention-hook',
    '',
    'momd',
    '(momd) A command run when contention starts and when it ends (e.g. to migrate a guest with',
    "the cluster's tools), without a shell. It gets MOMD_CONTENTION=started or ended,",
    'MOMD_PSI_FULL and MOMD_GUESTS in its environment and the facts as JSON on its stdin; its exit',
    'status and output are logged; it is stopped after 30 s. With contention-pause, it is run too',
    'when momd pauses a guest, resumes it or finds it gone: MOMD_CONTENTION=paused, resumed or',
    'gone, with MOMD_GUEST. Empty: none.',
  ),
  KEY(
    'main',
    'contention-pause',
    'false',
    'momd',
    '(momd) Contention: once an episode has lasted contention-pause-after seconds, pause ONE',
    'running guest until it ends: the one with the lowest shares, then the largest resident',
    'memory, then the first by name. Said at error level, in status and metrics; the guest is',
    'resumed when the episode ends and when momd stops or reloads. momd never resumes a guest it',
    'did not pause. Needs a backend that can pause (libvirt, qmp); elsewhere a warning at start.',
  ),
  KEY(
    'main',
    'contention-pause-after',
    '0',
    'momd',
    '(momd) Seconds into a contention episode before contention-pause pauses a guest (e.g. to',
    'give contention-hook time to move one first).',
  ),
  KEY(
    'main',
    'contention-pause-record',
    '/run/momd/contention-paused.json',
    'momd',
    '(momd) The file where momd notes the guest it paused for contention, written before the',
    'pause and removed after the resume: a momd started after one that was killed while holding',
    'a guest paused resumes that guest. momd does not pause when it cannot write it. Empty: none.',
  ),
  KEY(
    'main',
    'task-timeout',
    '60',
    'momd',
    '(momd) Seconds a periodic task (listing guests, collecting, a policy cycle) may run before',
    'it is left behind with an error, so that one hung call cannot stall the others; the task is',
    'not started again until that run ends. Every backend call has its own, shorter timeout (QMP',
    '5 s, virsh 10 s): this one catches what those do not. 0: no limit.',
  ),
  KEY(
    'main',
    'deflate-on-exit',
    'false',
    'momd',
    '(momd) When momd stops cleanly (SIGTERM, SIGINT, --duration), give every guest its maximum',
    'memory back first, as an administrator taking momd off a host wants. Off by default: a',
    'restart (an upgrade, a reload that needs one) should not inflate and squeeze every guest',
    'again. Not done when momd is killed (SIGKILL) or crashes.',
  ),
  KEY(
    'main',
    'pressure-check-interval',
    '0.5',
    'momd',
    '(momd) Seconds between cheap looks at the host memory between policy cycles. When the',
    'host swaps out, tasks stall on memory (PSI) or freeable memory falls under',
    'pressure-wake-free, a cycle runs at once (at most two a second). 0 turns the looks off.',
  ),
  KEY(
    'main',
    'pressure-wake-free',
    '0.08',
    'momd',
    '(momd) Freeable host memory, as a fraction of the total, under which a look wakes a cycle.',
  ),
  KEY(
    'main',
    'ksm-owned',
    'auto',
    'momd',
    '(momd) Whether momd drives KSM, which is machine-wide: auto (only when the host is the',
    'whole machine, not a memory cgroup), true or false. Policies see it as Host.Prop "ksm_owned".',
  ),
  KEY(
    'main',
    'zswap-owned',
    'false',
    'momd',
    '(momd) Whether momd drives zswap (the compressed cache in front of swap), which is',
    'machine-wide: true or false. Policies see it as Host.Prop "zswap_owned". The zswap settings',
    'found at start are put back when momd stops, or when a reload makes this false.',
  ),
  KEY(
    'main',
    'dry-run',
    'false',
    'momd',
    '(momd) Evaluate the policy and log what it would change, but apply nothing',
    '(also momd --dry-run, and momctl dry-run on|off while momd runs).',
  ),
  KEY(
    'main',
    'api-socket',
    DEFAULT_API_SOCKET,
    'momd',
    "(momd) The control API's unix socket (mode 0600; its folder is made if missing). Empty: no",
    'socket. When the default folder cannot be made or written (momd not root), the socket goes',
    'to $XDG_RUNTIME_DIR/momd/ or /tmp/momd-UID/ with a warning. See docs/api.md.',
  ),
  KEY(
    'main',
    'api-listen',
    '',
    'momd',
    '(momd) HOST:PORT for the control API over TCP as well ([::1]:PORT for IPv6). Empty: no',
    'TCP. Requires api-token-file: every request must carry that bearer token.',
  ),
  KEY(
    'main',
    'api-token-file',
    '',
    'momd',
    '(momd) A file holding the bearer token TCP clients must send (the first line; keep the',
    'file 0600).',
  ),
  KEY(
    'main',
    'api-tls-cert',
    '',
    'momd',
    '(momd) A PEM certificate: the TCP listener speaks HTTPS. Needs api-tls-key too.',
  ),
  KEY('main', 'api-tls-key', '', 'momd', '(momd) The PEM private key of api-tls-cert.'),
  KEY(
    'main',
    'metrics-listen',
    '',
    'momd',
    '(momd) HOST:PORT where momd serves Prometheus metrics at /metrics (for example',
    '127.0.0.1:9177; [::1]:9177 for IPv6). Empty: no metrics server.',
  ),
  KEY('logging', 'log', 'stdio', 'MOM', "Where log messages go: 'stdio' or a file path."),
  KEY(
    'logging',
    'verbosity',
    'info',
    'MOM',
    'The least severe messages logged: debug, info, warn, error or critical',
    '(or 5, 4, 3, 2, 1).',
  ),
  KEY(
    'logging',
    'max-bytes',
    '2097152',
    'MOM',
    'When logging to a file: its size at which it is rotated (bytes).',
  ),
  KEY('logging', 'backup-count', '5', 'MOM', 'When logging to a file: how many rotated files are kept.'),
  KEY(
    'host',
    'collectors',
    'HostMemory, HostKSM, HostPressure',
    'MOM',
    'Comma-separated collectors of host statistics: HostMemory, HostKSM,',
    'HostCpu, HostTime, HostSwap and (momd) HostPressure. HostMemory brings',
    "HostCpu along. MOM's default lacks HostPressure; the default policy",
    'reads it, and a kernel without PSI gives nil fields.',
  ),
  KEY(
    'guest',
    'collectors',
    'GuestQemuProc, GuestMemory, GuestBalloon',
    'MOM',
    'Comma-separated collectors of guest statistics: GuestQemuProc,',
    'GuestMemory, GuestBalloon, GuestCpuTune, GuestIoTune (libvirt and qmp only;',
    "one or more calls per guest), and MOM's GuestQemuAgent: GuestMemory's fields",
    'through the QEMU guest agent, for a guest whose balloon driver gives none',
    '(libvirt: virsh qemu-agent-command; qmp: the socket of [Collector:',
    "GuestQemuAgent] socket_path and socket_name_template). MOM's GuestNetworkDaemon",
    'is refused (an unauthenticated TCP daemon in each guest).',
  ),
];

function findKey(section: string, key: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.section === section && k.key === key);
}

/** `[guest:NAME]` or `[guest: NAME]`: bounds for the guest with that name or uuid. */
const GUEST_SECTION = /^guest:\s*(\S.*?)\s*$/;

/** The keys of a [guest:NAME] section. */
export const GUEST_SECTION_KEYS: readonly ConfigKey[] = [
  KEY(
    'guest',
    'balloon-floor',
    '',
    'momd',
    '(momd) The balloon never goes under this size (K, M, G: 512M). It binds',
    'whatever the policy asks, and is what the policy sees as balloon_min (with',
    "libvirt's guaranteed memory, the larger of the two).",
  ),
  KEY(
    'guest',
    'balloon-ceiling',
    '',
    'momd',
    '(momd) The balloon never goes over this size; the policy sees it as balloon_max.',
  ),
  KEY(
    'guest',
    'balloon',
    'on',
    'momd',
    "(momd) off: momd never moves this guest's balloon (balloon_opt_out is 1).",
  ),
  KEY(
    'guest',
    'shares',
    '1000',
    'momd',
    "(momd) The guest's weight when memory is scarce (policies see it as shares): a guest",
    'with twice the shares gives back half as much. 500 low, 1000 normal, 2000 high.',
  ),
];

/** The values the example [guest:web1] section shows. */
const EXAMPLE_GUEST_VALUES: Readonly<Record<string, string>> = {
  'balloon-floor': '512M',
  'balloon-ceiling': '4G',
};

/** An example mom.conf: every key with its default and a comment. Loading it gives the defaults. */
export const DEFAULT_CONFIG_TEXT: string = (() => {
  const out = [
    "# momd configuration, in the format of oVirt MOM's mom.conf: an existing",
    '# mom.conf works unchanged. Every key is shown with its default value.',
    '# Keys marked (momd) are ours; MOM ignores them. See docs/configuration.md.',
  ];
  for (const section of SECTIONS) {
    out.push('', `[${section}]`);
    CONFIG_KEYS.filter((k) => k.section === section).forEach((k, i) => {
      if (i > 0) out.push('');
      out.push(...k.doc.map((d) => `# ${d}`), k.default === '' ? `${k.key}:` : `${k.key}: ${k.default}`);
    });
  }
  out.push(
    '',
    '# (momd) Bounds for one guest, by its name or uuid, that no policy can cross:',
    '# [guest:web1]',
    ...GUEST_SECTION_KEYS.flatMap((k) => [
      ...k.doc.map((d) => `# ${d}`),
      `# ${k.key}: ${EXAMPLE_GUEST_VALUES[k.key] ?? k.default}`,
    ]),
  );
  return out.join('\n') + '\n';
})();

const MOM_CONTROLLERS: Record<string, ListEntryRule<ControllerName>> = {
  Balloon: { kind: 'use', name: 'Balloon' },
  KSM: { kind: 'use', name: 'KSM' },
  Zswap: { kind: 'use', name: 'Zswap' },
  CpuTune: { kind: 'use', name: 'CpuTune' },
  IoTune: { kind: 'use', name: 'IoTune' },
  CgroupLimit: { kind: 'use', name: 'CgroupLimit' },
};

/** Every group of the field catalogue is a collector name; MOM's others are read as below. */
const use = <T extends string>(groups: readonly T[]): Record<string, ListEntryRule<T>> =>
  Object.fromEntries(groups.map((g) => [g, { kind: 'use', name: g }]));

const HOST_COLLECTORS: Record<string, ListEntryRule<HostCollectorName>> = {
  ...use(['HostMemory', 'HostKSM'] as const),
  // Swap counters come with HostMemory here.
  HostSwap: { kind: 'ignore', why: 'is part of HostMemory in momd (swap fields come with it), ignored' },
  ...use(HOST_GROUPS),
  // momd gave cpu_count with HostMemory before it had HostCpu: a configuration that lists only
  // HostMemory keeps it. MOM's HostMemory lacks it, so a MOM configuration only gains a field.
  HostMemory: { kind: 'use', name: 'HostMemory', with: ['HostCpu'] },
};

const GUEST_COLLECTORS: Record<string, ListEntryRule<GuestCollectorName>> = {
  ...use(GUEST_GROUPS),
  GuestQemuAgent: { kind: 'use', name: 'GuestQemuAgent' },
  GuestNetworkDaemon: {
    kind: 'refuse',
    why: "is refused: it asks a plain-TCP daemon inside each guest for statistics, with no authentication, at an address a configured command finds (MOM's own source calls that a security hole); GuestMemory gives the same statistics through the balloon driver",
  },
  // MOM's other guest collectors (vdsm's mom.conf lists them). The *Optional ones are MOM's variants
  // that tolerate missing statistics, which ours do anyway.
  GuestMemoryOptional: { kind: 'alias', name: 'GuestMemory', why: "is read as 'GuestMemory'" },
  GuestBalloonOptional: { kind: 'alias', name: 'GuestBalloon', why: "is read as 'GuestBalloon'" },
  GuestIoTuneOptional: { kind: 'alias', name: 'GuestIoTune', why: "is read as 'GuestIoTune'" },
};

/** An absolute path whose file name may hold a `*`. */
const socketGlob: ValueParser<string> = (t, ctx) => {
  const v = t.trim();
  if (v === '') return { ok: false, expected: 'expected a path such as /var/run/qemu-server/*.qmp' };
  return { ok: true, value: isAbsolute(v) ? v : resolve(ctx.baseDir, v) };
};

/**
 * MOM's ways to its guests through vdsm's API. vdsm runs its guests on this host's libvirt, so
 * momd reads them there: the configuration vdsm writes loads, with one warning.
 */
const VDSM_INTERFACES = [
  'vdsm',
  'vdsmxmlrpc',
  'vdsmxmlrpcbulk',
  'vdsmjsonrpc',
  'vdsmjsonrpcbulk',
  'vdsmjsonrpcclient',
] as const;

const hypervisorInterface: ValueParser<HypervisorInterface> = (t, ctx) => {
  const vdsm = VDSM_INTERFACES.find((v) => v === t.trim().toLowerCase());
  if (vdsm === undefined)
    return oneOf<HypervisorInterface>(
      ['simulated', 'libvirt', 'qmp'],
      {},
      " (MOM's vdsm interfaces are read as libvirt)",
    )(t, ctx);
  return {
    ok: true,
    value: 'libvirt',
    notes: [
      `'${vdsm}' is MOM's way through vdsm's API; momd reads the same guests from libvirt on this host (libvirt-hypervisor-uri), so it is read as 'libvirt'`,
    ],
  };
};

const P = {
  hypervisor: hypervisorInterface,
  verbosity: oneOf<Verbosity>(['debug', 'info', 'warn', 'error', 'critical'], {
    warning: 'warn',
    '5': 'debug',
    '4': 'info',
    '3': 'warn',
    '2': 'error',
    '1': 'critical',
  }),
  historyLength: integer(1, Number.MAX_SAFE_INTEGER, 'expected an integer >= 1'),
  files: integer(1, 100_000, 'expected a number of files from 1 to 100000'),
  count: (unit: string) => integer(0, Number.MAX_SAFE_INTEGER, `expected an integer >= 0 (${unit})`),
  seed: integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'expected an integer'),
  speed: positiveNumber('expected a positive number (simulated seconds per real second)'),
  controllers: nameList('controller', MOM_CONTROLLERS),
  checkInterval: numberIn(0, 3600, 'expected seconds >= 0 (0 turns the looks off)'),
  fraction: numberIn(0, 1, 'expected a fraction from 0 to 1'),
  autoBoolean: ((t, ctx) =>
    t.trim().toLowerCase() === 'auto' ? { ok: true, value: 'auto' } : boolean(t, ctx)) as ValueParser<
    'auto' | boolean
  >,
  shares: integer(1, 1_000_000, 'expected a whole number of shares from 1 to 1000000 (1000 is normal)'),
  hostCollectors: nameList('host collector', HOST_COLLECTORS),
  guestCollectors: nameList('guest collector', GUEST_COLLECTORS),
};

interface Problem {
  /** Sort position: the line, or after every line for overrides. */
  readonly order: number;
  readonly text: string;
}

/** Where a value came from. */
type Origin =
  | { kind: 'override'; flag: string; value: string; order: number }
  | { kind: 'file'; entry: IniEntry; fromDefault: boolean }
  | { kind: 'builtin' };

/**
 * Reads the configuration: the built-in defaults, then the file (or text), then the overrides.
 * Throws ConfigError listing every malformed line and invalid value; returns warnings otherwise.
 * With neither file nor text, hypervisor-interface defaults to `simulated` instead of MOM's `libvirt`.
 */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const name = opts.file ?? '<text>';
  const fileBase = opts.file !== undefined ? dirname(resolve(opts.file)) : process.cwd();

  let text = opts.text;
  if (text === undefined && opts.file !== undefined) {
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ConfigError([`${opts.file}: cannot read the configuration file: ${why}`]);
    }
  }
  const doc: IniDocument | null = text === undefined ? null : parseIni(text);
  if (doc) {
    for (const p of doc.errors) errors.push({ order: p.line, text: formatIniProblem(name, p) });
    for (const p of doc.warnings) warnings.push({ order: p.line, text: formatIniProblem(name, p) });
  }

  // Overrides: SECTION.KEY, checked before anything is read from them.
  // Problems with overrides come after the file's, in the order the overrides were given.
  const overrideBase = Number.MAX_SAFE_INTEGER / 2;
  const overrides = new Map<string, { flag: string; value: string; order: number }>();
  for (const [i, [flag, value]] of Object.entries(opts.overrides ?? {}).entries()) {
    const order = overrideBase + i;
    const dot = flag.indexOf('.');
    const section = flag.slice(0, Math.max(dot, 0)).trim().toLowerCase();
    const key = flag
      .slice(dot + 1)
      .trim()
      .toLowerCase();
    if (dot <= 0 || key === '') {
      errors.push({ order, text: `override ${quote(flag)}: expected SECTION.KEY` });
    } else if (!(SECTIONS as readonly string[]).includes(section)) {
      errors.push({ order, text: `override ${flag}: unknown section [${section}]` });
    } else if (!findKey(section, key)) {
      const hint = suggestKey(section, key);
      errors.push({
        order,
        text: `override ${flag}: unknown key '${key}' in [${section}]${hint}`,
      });
    } else {
      overrides.set(`${section}.${key}`, { flag, value: value.trim(), order });
    }
  }

  const builtinDefault = (k: ConfigKey): string =>
    k.key === 'hypervisor-interface' && doc === null ? 'simulated' : k.default;

  const referenced = new Set<string>(); // `section\0key` of keys used through %(key)s
  const lookupIn =
    (section: SectionName) =>
    (key: string): string | undefined => {
      const o = overrides.get(`${section}.${key}`);
      if (o) return o.value.replace(/%/g, '%%');
      const e = doc?.sections.get(section)?.entries.get(key) ?? doc?.defaults?.entries.get(key);
      if (e) return e.value;
      const k = findKey(section, key);
      return k ? builtinDefault(k).replace(/%/g, '%%') : undefined;
    };

  const originOf = (section: SectionName, k: ConfigKey): Origin => {
    const o = overrides.get(`${section}.${k.key}`);
    if (o) return { kind: 'override', ...o };
    const own = doc?.sections.get(section)?.entries.get(k.key);
    if (own) return { kind: 'file', entry: own, fromDefault: false };
    const dflt = doc?.defaults?.entries.get(k.key);
    if (dflt) return { kind: 'file', entry: dflt, fromDefault: true };
    return { kind: 'builtin' };
  };

  /** `section.key` → where a value other than the default was given (for the no-effect warnings). */
  const changed = new Map<string, { order: number; prefix: string }>();
  const get = <T>(section: SectionName, key: string, parse: ValueParser<T>): T => {
    const k = findKey(section, key);
    if (!k) throw new Error(`config: no key ${section}.${key}`);
    const fallback = parse(builtinDefault(k), { baseDir: fileBase });
    if (!fallback.ok) throw new Error(`config: the default of ${section}.${key} is invalid`);
    const origin = originOf(section, k);
    if (origin.kind === 'builtin') return fallback.value;

    const where =
      origin.kind === 'override'
        ? { order: origin.order, prefix: `override ${origin.flag}: [${section}] ${key}` }
        : {
            order: origin.entry.line,
            prefix: `${name}:${origin.entry.line}: [${section}] ${key}${origin.fromDefault ? ' (from [DEFAULT])' : ''}`,
          };
    let value: string;
    let written = '';
    if (origin.kind === 'override') value = origin.value;
    else {
      const r = interpolate(origin.entry.value, lookupIn(section), (ref) =>
        referenced.add(`${section}\0${ref}`),
      );
      if (!r.ok) {
        errors.push({
          order: where.order,
          text: `${where.prefix}: invalid value ${quote(origin.entry.value)}: ${r.error}`,
        });
        return fallback.value;
      }
      value = r.value;
      if (value !== origin.entry.value) written = ` (written ${quote(origin.entry.value)})`;
    }
    const baseDir = origin.kind === 'override' ? process.cwd() : fileBase;
    const parsed = parse(value, { baseDir });
    if (!parsed.ok) {
      errors.push({
        order: where.order,
        text: `${where.prefix}: invalid value ${quote(value)}${written}: ${parsed.expected}`,
      });
      return fallback.value;
    }
    if (JSON.stringify(parsed.value) !== JSON.stringify(fallback.value))
      changed.set(`${section}.${key}`, where);
    for (const note of parsed.notes ?? [])
      warnings.push({ order: where.order, text: `${where.prefix}: ${note}` });
    return parsed.value;
  };

  const config: MomConfig = {
    file: opts.file !== undefined ? resolve(opts.file) : null,
    main: {
      mainLoopInterval: get('main', 'main-loop-interval', seconds),
      hostMonitorInterval: get('main', 'host-monitor-interval', seconds),
      guestMonitorInterval: get('main', 'guest-monitor-interval', seconds),
      guestManagerInterval: get('main', 'guest-manager-interval', seconds),
      policyEngineInterval: get('main', 'policy-engine-interval', seconds),
      hypervisorInterface: get('main', 'hypervisor-interface', P.hypervisor),
      controllers: get('main', 'controllers', P.controllers),
      sampleHistoryLength: get('main', 'sample-history-length', P.historyLength),
      policy: get('main', 'policy', optionalPath),
      policyDir: get('main', 'policy-dir', optionalPath),
      plotDir: get('main', 'plot-dir', optionalPath),
      recordDir: get('main', 'record-dir', optionalPath),
      recordMaxSize: get('main', 'record-max-size', byteSize),
      recordMaxFiles: get('main', 'record-max-files', P.files),
      recordRotateEvery: get('main', 'record-rotate-every', rotateInterval),
      rpcPort: get('main', 'rpc-port', rpcPort),
      libvirtHypervisorUri: get('main', 'libvirt-hypervisor-uri', libvirtUri),
      guestManagerMultiThread: get('main', 'guest-manager-multi-thread', boolean),
      simulatorScenario: get('main', 'simulator-scenario', scenario),
      simulatorSeed: get('main', 'simulator-seed', P.seed),
      simulatorSpeed: get('main', 'simulator-speed', P.speed),
      qmpSocketGlob: get('main', 'qmp-socket-glob', socketGlob),
      hostMemorySource: get('main', 'host-memory-source', optionalPath),
      balloonStuckTimeout: get('main', 'balloon-stuck-timeout', seconds),
      policyFallbackAfter: get('main', 'policy-fallback-after', P.count('failed cycles; 0: never')),
      ksmRestoreOnExit: get('main', 'ksm-restore-on-exit', boolean),
      deflateOnExit: get('main', 'deflate-on-exit', boolean),
      contentionPsiFull: get(
        'main',
        'contention-psi-full',
        numberIn(0, 100, 'expected a percentage from 0 to 100 (0: off)'),
      ),
      contentionAfter: get('main', 'contention-after', seconds),
      contentionHook: get('main', 'contention-hook', optionalPath),
      contentionPause: get('main', 'contention-pause', boolean),
      contentionPauseAfter: get(
        'main',
        'contention-pause-after',
        numberIn(0, 86_400, 'expected seconds >= 0 (0: at the start of the episode)'),
      ),
      contentionPauseRecord: get('main', 'contention-pause-record', optionalPath),
      taskTimeout: get('main', 'task-timeout', numberIn(0, 86_400, 'expected seconds >= 0 (0: no limit)')),
      pressureCheckInterval: get('main', 'pressure-check-interval', P.checkInterval),
      pressureWakeFree: get('main', 'pressure-wake-free', P.fraction),
      ksmOwned: get('main', 'ksm-owned', P.autoBoolean),
      zswapOwned: get('main', 'zswap-owned', boolean),
      dryRun: get('main', 'dry-run', boolean),
      apiSocket: get('main', 'api-socket', optionalPath),
      apiListen: get('main', 'api-listen', listenAddress),
      apiTokenFile: get('main', 'api-token-file', optionalPath),
      apiTlsCert: get('main', 'api-tls-cert', optionalPath),
      apiTlsKey: get('main', 'api-tls-key', optionalPath),
      metricsListen: get('main', 'metrics-listen', listenAddress),
    },
    logging: {
      log: get('logging', 'log', logTarget),
      verbosity: get('logging', 'verbosity', P.verbosity),
      maxBytes: get('logging', 'max-bytes', P.count('bytes')),
      backupCount: get('logging', 'backup-count', P.count('files')),
    },
    host: { collectors: get('host', 'collectors', P.hostCollectors) },
    guest: {
      collectors: get('guest', 'collectors', P.guestCollectors),
      agentSocket: agentSocketSettings(doc),
    },
    guests: doc === null ? [] : readGuestSections(doc, name, fileBase, errors, warnings),
  };

  checkApiKeys(
    config,
    (key) => {
      const o = originOf('main', findKey('main', key) as ConfigKey);
      if (o.kind === 'override') return { order: o.order, prefix: `override ${o.flag}: [main] ${key}` };
      if (o.kind === 'file') return { order: o.entry.line, prefix: `${name}:${o.entry.line}: [main] ${key}` };
      return { order: 0, prefix: `[main] ${key}` };
    },
    errors,
    warnings,
  );
  // A key given a value that changes nothing here is said, never silently ignored.
  for (const rule of NO_EFFECT) {
    const where = changed.get(rule.key);
    const why = where === undefined ? null : rule.why(config);
    if (where !== undefined && why !== null)
      warnings.push({ order: where.order, text: `${where.prefix}: ${why}` });
  }

  if (doc) {
    // Unknown sections and keys: warnings. A key used only through %(key)s is not unknown.
    for (const section of doc.sections.values()) {
      if (GUEST_SECTION.test(section.name)) continue;
      const plugin = pluginSectionWarnings(section, name, config.main.hypervisorInterface);
      if (plugin !== null) {
        warnings.push(...plugin);
        continue;
      }
      if (!(SECTIONS as readonly string[]).includes(section.name)) {
        warnings.push({
          order: section.line,
          text: `${name}:${section.line}: unknown section [${section.name}], ignored${suggestSection(section.name)}`,
        });
        continue;
      }
      for (const e of section.entries.values()) {
        if (findKey(section.name, e.key) || referenced.has(`${section.name}\0${e.key}`)) continue;
        warnings.push({
          order: e.line,
          text: `${name}:${e.line}: unknown key '${e.key}' in [${section.name}], ignored${suggestKey(section.name, e.key)}`,
        });
      }
    }
    for (const e of doc.defaults?.entries.values() ?? []) {
      const used = SECTIONS.some((s) => findKey(s, e.key) || referenced.has(`${s}\0${e.key}`));
      if (!used) {
        warnings.push({
          order: e.line,
          text: `${name}:${e.line}: unknown key '${e.key}' in [${DEFAULT_SECTION}], ignored${suggestKey(null, e.key)}`,
        });
      }
    }
  }

  const sorted = (ps: Problem[]): string[] =>
    ps
      .map((p, i) => ({ p, i }))
      .sort((a, b) => a.p.order - b.p.order || a.i - b.i)
      .map(({ p }) => p.text);
  if (errors.length > 0) throw new ConfigError(sorted(errors), sorted(warnings));
  return { config, warnings: sorted(warnings) };
}

/**
 * The control API's keys together: TCP only with a token (momd refuses to start a TCP listener
 * anyone could use), TLS needs both files, and TLS or a token without TCP does nothing (a warning).
 */
function checkApiKeys(
  config: MomConfig,
  where: (key: string) => { order: number; prefix: string },
  errors: Problem[],
  warnings: Problem[],
): void {
  const m = config.main;
  const problem = (list: Problem[], key: string, text: string): void => {
    const w = where(key);
    list.push({ order: w.order, text: `${w.prefix}: ${text}` });
  };
  if (m.apiListen !== null && m.apiTokenFile === null)
    problem(
      errors,
      'api-listen',
      'a TCP listener needs api-token-file (a bearer token every request must carry); momd does not start without one',
    );
  if ((m.apiTlsCert === null) !== (m.apiTlsKey === null)) {
    const [set, missing] =
      m.apiTlsCert !== null ? ['api-tls-cert', 'api-tls-key'] : ['api-tls-key', 'api-tls-cert'];
    problem(errors, set, `needs ${missing} as well`);
  }
  if (m.apiListen === null) {
    for (const [key, v] of [
      ['api-token-file', m.apiTokenFile],
      ['api-tls-cert', m.apiTlsCert],
      ['api-tls-key', m.apiTlsKey],
    ] as const) {
      if (v !== null)
        problem(warnings, key, 'has no effect without api-listen (the unix socket needs no token)');
    }
  }
}

/**
 * Keys momd accepts (an existing mom.conf keeps loading) that have no effect in some or all
 * configurations. Set to a value other than the default where `why` returns a reason, each is a
 * warning at start (and at each reload).
 */
const NO_EFFECT: ReadonlyArray<{ key: string; why: (c: MomConfig) => string | null }> = [
  {
    key: 'main.guest-manager-multi-thread',
    why: () => 'has no effect in momd (every guest is collected in one request per cycle): ignored',
  },
  ...['max-bytes', 'backup-count'].map((k) => ({
    key: `logging.${k}`,
    why: (c: MomConfig) => (c.logging.log === 'stdio' ? 'has no effect when logging to stdio' : null),
  })),
  ...['simulator-scenario', 'simulator-seed', 'simulator-speed'].map((k) => ({
    key: `main.${k}`,
    why: onlyWith('simulated'),
  })),
  { key: 'main.libvirt-hypervisor-uri', why: onlyWith('libvirt') },
  { key: 'main.qmp-socket-glob', why: onlyWith('qmp') },
  {
    key: 'main.host-memory-source',
    why: (c) =>
      c.main.hypervisorInterface === 'simulated'
        ? 'has no effect with hypervisor-interface simulated (the scenario sets the host)'
        : null,
  },
];

function onlyWith(hypervisor: HypervisorInterface): (c: MomConfig) => string | null {
  return (c) =>
    c.main.hypervisorInterface === hypervisor
      ? null
      : `has no effect with hypervisor-interface ${c.main.hypervisorInterface} (only with ${hypervisor})`;
}

/** Reads every [guest:NAME] section; problems are added to `errors` and `warnings`. */
function readGuestSections(
  doc: IniDocument,
  file: string,
  baseDir: string,
  errors: Problem[],
  warnings: Problem[],
): GuestSettings[] {
  const out: GuestSettings[] = [];
  for (const section of doc.sections.values()) {
    const m = GUEST_SECTION.exec(section.name);
    if (m === null) continue;
    const match = m[1] ?? '';
    const where = (e: IniEntry): string => `${file}:${e.line}: [${section.name}] ${e.key}`;
    const lookup = (key: string): string | undefined =>
      section.entries.get(key)?.value ?? doc.defaults?.entries.get(key)?.value;
    const read = <T>(key: string, parse: ValueParser<T>, fallback: T): T => {
      const e = section.entries.get(key);
      if (e === undefined) return fallback;
      const r = interpolate(e.value, lookup, () => {});
      if (!r.ok) {
        errors.push({ order: e.line, text: `${where(e)}: invalid value ${quote(e.value)}: ${r.error}` });
        return fallback;
      }
      const parsed = parse(r.value, { baseDir });
      if (!parsed.ok) {
        errors.push({
          order: e.line,
          text: `${where(e)}: invalid value ${quote(r.value)}: ${parsed.expected}`,
        });
        return fallback;
      }
      return parsed.value;
    };
    const optionalSize: ValueParser<number | null> = (t, ctx) =>
      t.trim() === '' ? { ok: true, value: null } : size(t, ctx);
    const settings: GuestSettings = {
      match,
      floorKib: read('balloon-floor', optionalSize, null),
      ceilingKib: read('balloon-ceiling', optionalSize, null),
      balloon: read('balloon', boolean, true),
      shares: read('shares', P.shares, 1000),
    };
    if (
      settings.floorKib !== null &&
      settings.ceilingKib !== null &&
      settings.floorKib > settings.ceilingKib
    ) {
      errors.push({
        order: section.line,
        text: `${file}:${section.line}: [${section.name}]: balloon-floor (${settings.floorKib} KiB) is above balloon-ceiling (${settings.ceilingKib} KiB)`,
      });
    }
    if (out.some((o) => o.match === match)) {
      errors.push({
        order: section.line,
        text: `${file}:${section.line}: [${section.name}]: a second section for guest '${match}'`,
      });
    }
    for (const e of section.entries.values()) {
      if (GUEST_SECTION_KEYS.some((k) => k.key === e.key)) continue;
      const close = GUEST_SECTION_KEYS.find((k) => editDistance(k.key, e.key.replace(/[_\s]+/g, '-')) <= 2);
      warnings.push({
        order: e.line,
        text: `${where(e)}: unknown key '${e.key}' in a guest section, ignored${close ? ` (did you mean '${close.key}'?)` : ` (known: ${GUEST_SECTION_KEYS.map((k) => k.key).join(', ')})`}`,
      });
    }
    out.push(settings);
  }
  return out;
}

/** `[Collector: NAME]`: MOM hands the keys of this section to the collector NAME. */
const COLLECTOR_SECTION = /^Collector:\s*(\S+)\s*$/;

/**
 * The settings MOM's collectors read from their section, with MOM's defaults (null: none). No
 * collector of momd reads any: a key at MOM's default asks for nothing, any other is a warning.
 */
const COLLECTOR_SETTINGS: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  GuestQemuAgent: { socket_path: '/var/lib/libvirt/qemu', socket_name_template: '%(name)s.agent' },
  GuestNetworkDaemon: { 'name-to-ip-helper': null },
};

/** [Collector: GuestQemuAgent]'s socket settings (the section's name is matched as MOM's loader does). */
function agentSocketSettings(doc: IniDocument | null): { socketPath: string; socketNameTemplate: string } {
  const defaults = COLLECTOR_SETTINGS['GuestQemuAgent'] as Readonly<Record<string, string>>;
  const section = [...(doc?.sections.values() ?? [])].find(
    (s) => COLLECTOR_SECTION.exec(s.name)?.[1]?.toLowerCase() === 'guestqemuagent',
  );
  const value = (key: string): string => section?.entries.get(key)?.value ?? defaults[key] ?? '';
  return { socketPath: value('socket_path'), socketNameTemplate: value('socket_name_template') };
}

/**
 * The warnings of a section MOM reads for one of its plugins: `[Collector: NAME]` (each key,
 * since none is read here) and `[vdsm]` (the way to vdsm's API; momd uses libvirt). Null for any
 * other section. Values are read raw, as MOM reads them (no %-interpolation).
 */
function pluginSectionWarnings(
  section: IniSection,
  file: string,
  hypervisor: HypervisorInterface,
): Problem[] | null {
  const at = (line: number, text: string): Problem => ({ order: line, text: `${file}:${line}: ${text}` });
  const entries = [...section.entries.values()];
  if (section.name === 'vdsm') {
    if (entries.length === 0) return [];
    return [
      at(
        section.line,
        `[vdsm] (${entries.map((e) => e.key).join(', ')}): how MOM reaches vdsm's API; momd reads the guests from libvirt instead, ignored`,
      ),
    ];
  }
  const m = COLLECTOR_SECTION.exec(section.name);
  if (m === null) return null;
  const wanted = (m[1] ?? '').toLowerCase();
  const collector = [...Object.keys(HOST_COLLECTORS), ...Object.keys(GUEST_COLLECTORS)].find(
    (c) => c.toLowerCase() === wanted,
  );
  if (collector === undefined)
    return [at(section.line, `unknown section [${section.name}], ignored (no collector '${m[1] ?? ''}')`)];
  const settings = COLLECTOR_SETTINGS[collector] ?? {};
  const known = Object.keys(settings);
  const why =
    collector === 'GuestNetworkDaemon'
      ? 'momd refuses GuestNetworkDaemon'
      : collector === 'GuestQemuAgent'
        ? hypervisor === 'libvirt'
          ? "with hypervisor-interface libvirt momd reaches each guest's agent through libvirt (virsh qemu-agent-command), which holds its socket"
          : `with hypervisor-interface ${hypervisor} momd reaches no guest agent`
        : `${collector} takes no settings`;
  // GuestQemuAgent's socket keys are read with hypervisor-interface qmp (agentSocketSettings).
  const read = (key: string): boolean =>
    collector === 'GuestQemuAgent' && hypervisor === 'qmp' && known.includes(key);
  return entries
    .filter((e) => settings[e.key] !== e.value && !read(e.key))
    .map((e) =>
      at(
        e.line,
        known.includes(e.key)
          ? `[${section.name}] ${e.key}: not read (${why}), ignored`
          : `[${section.name}] ${e.key}: unknown key, ignored (${known.length > 0 ? `${collector}'s keys in MOM: ${known.join(', ')}` : why})`,
      ),
    );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** A hint for an unknown key: the section it belongs in, or a known key it is close to. */
function suggestKey(section: string | null, key: string): string {
  const elsewhere = CONFIG_KEYS.find((k) => k.key === key && k.section !== section);
  if (elsewhere && section !== null) return ` (it belongs in [${elsewhere.section}])`;
  const normal = key.replace(/[_\s]+/g, '-');
  const candidates = CONFIG_KEYS.filter((k) => section === null || k.section === section);
  const close =
    candidates.find((k) => k.key === normal) ??
    candidates.find((k) => editDistance(k.key, normal) <= Math.min(2, Math.floor(normal.length / 4)));
  return close ? ` (did you mean '${close.key}'?)` : '';
}

function suggestSection(name: string): string {
  const lower = name.toLowerCase();
  if ((SECTIONS as readonly string[]).includes(lower)) {
    return ` (section names are case-sensitive: did you mean [${lower}]?)`;
  }
  if (lower === DEFAULT_SECTION.toLowerCase()) return ` (did you mean [${DEFAULT_SECTION}]?)`;
  return '';
}
