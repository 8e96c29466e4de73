// momd: the daemon. Reads mom.conf (or runs on the built-in simulated host with the shipped
// default policies when there is none), then runs collect → evaluate → apply until SIGINT or
// SIGTERM. SIGHUP reloads the configuration and the policies: a new configuration that does not
// load, or whose policy does not parse, is rejected with its errors and the running one goes on.
// However momd ends (a signal, --duration, a fatal error), KSM is put back as it was found, and so is
// zswap when momd changed it (also when a reload stops momd owning zswap).
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import type { ReloadResult } from '../api/command-port.js';
import { ReadModel } from '../api/read-model.js';
import { ConfigError, loadConfig, type MomConfig, type Verbosity } from '../config/index.js';
import { codeOf } from '../errors.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { EngineEvents } from '../engine/events.js';
import { PolicyFiles } from '../engine/policy-files.js';
import { runTasks } from '../engine/scheduler.js';
import { deflateAll } from '../hypervisors/deflate.js';
import { createBackend, type Backend } from '../hypervisors/index.js';
import type { MetricsServer } from '../metrics/index.js';
import { loadAssets } from '../dashboard/assets.js';
import { notLoopback } from '../dashboard/loopback.js';
import { Timeline, timelineCapacity } from '../dashboard/timeline.js';
import { PlotFiles } from '../plot/plot-files.js';
import { formatErrors, loadPolicySet } from '../policy/index.js';
import { Recorder } from '../record/recorder.js';
import { attachContentionHook } from './contention-hook.js';
import { engineSettings } from './engine-settings.js';
import { openLogger, setLogVerbosity, type LogFormat } from './logger.js';
import { startApi, type RunningApi } from './momd-api.js';
import { createDaemonCommands } from './momd-commands.js';
import type { RunningRpc } from './momd-rpc.js';
import { SHIPPED_POLICIES } from './paths.js';
import { acquirePidFile, type PidFile } from './pid-file.js';
import { systemdNotifier } from './sd-notify.js';
import { VERSION } from './version.js';

export interface MomdOptions {
  config?: string;
  /** MOM's long name of -c. */
  configFile?: string;
  scenario?: string;
  seed?: string;
  speed?: string;
  policy?: string;
  /** MOM's -r: the same key as --policy. */
  rulesFile?: string;
  policyDir?: string;
  plotDir?: string;
  record?: string;
  verbosity?: string;
  /** MOM's -v: the same key as --verbosity. */
  verbose?: string;
  log?: string;
  logFormat?: LogFormat;
  duration?: number;
  dryRun?: boolean;
  apiSocket?: string;
  /** MOM's -d: accepted; momd does not fork. */
  daemon?: boolean;
  pidFile?: string;
  /** --dashboard [HOST:PORT]: true without a value. */
  dashboard?: true | { host: string; port: number };
}

/** How the daemon is told to reload (SIGHUP): `subscribe` registers the handler, returns its removal. */
export interface ReloadSource {
  subscribe(handler: () => void): () => void;
}

/** Runs the daemon until the signal aborts (or --duration passes). Returns the exit code. */
export async function runMomd(
  argv: readonly string[],
  signal: AbortSignal,
  stderr: (s: string) => void,
  reloads?: ReloadSource,
): Promise<number> {
  // MOM's own flags (-c, -r, -P, -p, -l, -v, -d, --pid-file) are here under MOM's names, so
  // that MOM's and vdsm's service units run momd unchanged; each sets the key MOM's sets.
  const program = new Command('momd')
    .description('Memory Overcommitment Manager daemon')
    .addOption(
      new Option(
        '-c, --config <file>',
        'mom.conf to read (default: none, the built-in simulated host)',
      ).conflicts('configFile'),
    )
    .addOption(new Option('--config-file <file>', "MOM's name for -c").hideHelp())
    .option('--scenario <name|file>', 'simulated host scenario ([main] simulator-scenario)')
    .option('--seed <n>', 'simulation seed ([main] simulator-seed)')
    .option('--speed <x>', 'simulated seconds per real second ([main] simulator-speed)')
    .addOption(new Option('--policy <file>', 'policy file ([main] policy)').conflicts('rulesFile'))
    .option('-r, --rules-file <file>', "policy file, MOM's name for --policy ([main] policy)")
    .option('-P, --policy-dir <dir>', 'policy directory, *.policy by name ([main] policy-dir)')
    .option('-p, --plot-dir <dir>', 'directory for plot files ([main] plot-dir)')
    .option(
      '--record <dir>',
      'record every policy cycle in this folder, for momctl replay ([main] record-dir)',
    )
    .addOption(
      new Option(
        '--verbosity <level>',
        'debug, info, warn, error or critical, or 5..1 ([logging] verbosity)',
      ).conflicts('verbose'),
    )
    .option('-v, --verbose <level>', "MOM's name for --verbosity ([logging] verbosity)")
    .option('-l, --log <target>', "'stdio' or a file ([logging] log)")
    .option(
      '--log-format <format>',
      "'json' or 'pretty' (default: pretty on a terminal, else json)",
      parseFormat,
    )
    .option('--duration <seconds>', 'stop after this many seconds of (simulated) time', parseSeconds)
    .option('--dry-run', 'evaluate the policy and log what it would change; apply nothing ([main] dry-run)')
    .option('--api-socket <path>', "the control API's unix socket; '' for none ([main] api-socket)")
    .option('-d, --daemon', "MOM's flag, accepted: momd stays in the foreground (run it under systemd)")
    .option('--pid-file <file>', 'write the pid to this file at start; removed when momd ends')
    .option(
      '--dashboard [host:port]',
      `serve the dashboard on a loopback address behind a token made at start, and print its URL (default ${DASHBOARD_DEFAULT.host}:${DASHBOARD_DEFAULT.port})`,
      parseDashboard,
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeErr: (s) => stderr(s) });
  let opts: MomdOptions;
  try {
    program.parse([...argv], { from: 'user' });
    opts = program.opts<MomdOptions>();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }

  let loaded: Loaded;
  try {
    loaded = load(opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr(`momd: invalid configuration, not starting:\n${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const { log, close } = openLogger({
    verbosity: loaded.config.logging.verbosity,
    destination: loaded.config.logging.log,
    format: opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    maxBytes: loaded.config.logging.maxBytes,
    backupCount: loaded.config.logging.backupCount,
  });
  for (const w of loaded.warnings) log.warn({ code: 'MOM_W_CONFIG' }, w);
  let pidFile: PidFile | undefined;
  try {
    if (opts.daemon === true)
      log.warn(
        { code: 'MOM_W_NO_FORK' },
        '-d/--daemon: momd does not fork; it stays in the foreground, as under systemd (a Type=forking unit would wait for a fork that never comes: use Type=simple or notify)',
      );
    if (opts.pidFile !== undefined) {
      pidFile = acquirePidFile(resolve(opts.pidFile));
      log.info({ pid_file: pidFile.path, pid: process.pid }, `pid ${process.pid} written to ${pidFile.path}`);
    }
    return await runDaemon(loaded, opts, log, signal, reloads);
  } catch (err) {
    log.fatal({ err: (err as Error).message, code: codeOf(err) }, 'momd cannot run');
    stderr(`momd: ${(err as Error).message}\n`);
    return 1;
  } finally {
    pidFile?.release();
    await close();
  }
}

interface Loaded {
  readonly config: MomConfig;
  readonly warnings: readonly string[];
  readonly policy: PolicyFiles;
}

/** Reads the configuration (file and flags) and finds its policy files. Throws ConfigError. */
function load(opts: MomdOptions): Loaded {
  const file = opts.config ?? opts.configFile;
  const { config, warnings } = loadConfig({
    ...(file ? { file } : {}),
    overrides: overridesFrom(opts),
  });
  const usingDefaults = config.file === null && config.main.policy === null && config.main.policyDir === null;
  const policy = usingDefaults
    ? new PolicyFiles(undefined, SHIPPED_POLICIES.default)
    : new PolicyFiles(config.main.policy ?? undefined, config.main.policyDir ?? undefined);
  return { config, warnings, policy };
}

/**
 * The configuration SIGHUP asks for, checked all the way: it loads, and its policy files are
 * readable and parse. Returns it, or the problems to log (the running configuration stays).
 */
function loadForReload(opts: MomdOptions): { ok: true; loaded: Loaded } | { ok: false; problems: string } {
  let loaded: Loaded;
  try {
    loaded = load(opts);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.message };
    throw err;
  }
  try {
    const sources = loaded.policy.readIfChanged() ?? [];
    const set = loadPolicySet(sources);
    if (!set.ok) return { ok: false, problems: formatErrors(set.errors) };
  } catch (err) {
    return { ok: false, problems: (err as Error).message };
  }
  // The engine reads the files again when it starts.
  return { ok: true, loaded: { ...loaded, policy: new PolicyFiles(loaded.policy.file, loaded.policy.dir) } };
}

async function runDaemon(
  first: Loaded,
  opts: MomdOptions,
  log: Logger,
  signal: AbortSignal,
  reloads: ReloadSource | undefined,
): Promise<number> {
  const onWarning = (message: string): void => log.warn({ code: 'MOM_W_BACKEND' }, message);
  let current = first;
  let backend: Backend = createBackend(current.config, { onWarning });
  let pending: Loaded | undefined;
  let stopRun: AbortController | undefined;
  const notifier = systemdNotifier(process.env, (message) => log.warn({ code: 'MOM_W_NOTIFY' }, message));
  // One event bus for the daemon's life: each engine (a reload makes a new one) emits on it, so
  // the API's read model listens once.
  const events = new EngineEvents((event, err) =>
    log.error({ event, err: (err as Error).message }, `a listener of ${event} events failed`),
  );
  const model = new ReadModel({
    version: VERSION,
    pid: process.pid,
    startedAt: Date.now(),
    backend: () => backend.description,
  });
  model.attach(events);
  const timeline = new Timeline({ capacity: timelineCapacity(first.config.main.policyEngineInterval) });
  timeline.attach(events);
  let engine: Engine | undefined;
  // Run-time settings; a dry run set through the API outlasts reloads (until momd stops).
  let dryRunOverride: boolean | undefined;
  const dryRun = (): boolean => dryRunOverride ?? current.config.main.dryRun;
  let verbosity: Verbosity = current.config.logging.verbosity;
  const emitSettings = (): void => events.emit('settings', { dryRun: dryRun(), verbosity });
  const sayDryRun = (): void => {
    if (dryRun())
      log.warn({ code: 'MOM_W_DRY_RUN' }, 'dry run: the policy is evaluated and logged, nothing is applied');
    else log.info('dry run off: controls are applied');
  };

  /** SIGHUP's and POST /v1/reload's: a new configuration, checked all the way, or the problems. */
  const reload = (): ReloadResult => {
    const r = loadForReload(opts);
    if (!r.ok) {
      log.error(
        { code: 'MOM_E_CONFIG', problems: r.problems },
        `reload rejected, the running configuration stays in force:\n${r.problems}`,
      );
      return { ok: false, problems: r.problems.split('\n') };
    }
    for (const w of r.loaded.warnings) log.warn({ code: 'MOM_W_CONFIG' }, w);
    if (apiSettings(r.loaded.config) !== apiSettings(current.config))
      log.warn({ code: 'MOM_W_CONFIG' }, 'the api-* keys changed: they take effect when momd restarts');
    if (
      JSON.stringify(r.loaded.config.main.metricsListen) !== JSON.stringify(first.config.main.metricsListen)
    )
      log.warn(
        { code: 'MOM_W_CONFIG' },
        'metrics-listen changed: the metrics server keeps its address until momd restarts',
      );
    if (JSON.stringify(r.loaded.config.main.rpcPort) !== JSON.stringify(first.config.main.rpcPort))
      log.warn(
        { code: 'MOM_W_CONFIG' },
        'rpc-port changed: the XML-RPC server keeps its address until momd restarts',
      );
    if (r.loaded.config.main.plotDir !== first.config.main.plotDir)
      log.warn(
        { code: 'MOM_W_CONFIG' },
        'plot-dir changed: plots go on in the same directory until momd restarts',
      );
    if (JSON.stringify(recordSettings(r.loaded.config)) !== JSON.stringify(recordSettings(first.config)))
      log.warn(
        { code: 'MOM_W_CONFIG' },
        'record-dir, record-max-size, record-max-files or record-rotate-every changed: the recording goes on as it was until momd restarts',
      );
    pending = r.loaded;
    void notifier?.notify({ RELOADING: '1' });
    stopRun?.abort();
    return { ok: true };
  };
  const unsubscribe = reloads?.subscribe(() => {
    log.info('SIGHUP: reloading the configuration and the policies');
    reload();
  });
  const commands = createDaemonCommands({
    engine: () => engine,
    policyFiles: () => current.policy,
    reload: () => {
      log.info('reload asked through the API');
      return reload();
    },
    dryRun,
    setDryRun(on) {
      const before = dryRun();
      dryRunOverride = on;
      if (before !== on) sayDryRun();
      emitSettings();
    },
    setVerbosity(level) {
      verbosity = level;
      setLogVerbosity(log, level);
      log.info({ verbosity: level }, `verbosity set to ${level}`);
      emitSettings();
    },
  });
  // A set read from the files (a new engine, a change on disk, resetPolicies) replaces the named
  // policies and any upload: the commands forget them too.
  const offPolicy = events.on('policy', (e) => {
    if (e.ok && e.origin === 'files') commands.policyReloaded();
  });
  let api: RunningApi | undefined;
  let rpc: RunningRpc | undefined;
  let apiAnnounced = false;
  const start = backend.clock.now();
  const listen = first.config.main.metricsListen;
  // prom-client is loaded only when metrics are on (it adds a quarter second to every start).
  const metricsModule = listen === null ? null : await import('../metrics/index.js');
  const metrics = metricsModule?.createMetrics({ version: VERSION }) ?? null;
  let metricsServer: MetricsServer | null = null;
  const plotDir = first.config.main.plotDir;
  const plots =
    plotDir === null ? null : PlotFiles.open(plotDir, (message) => log.warn({ code: 'MOM_W_PLOT' }, message));
  if (plots !== null) log.info({ plot_dir: plots.dir }, `plot files in ${plots.dir}`);
  // The recorder listens to the daemon's bus, so it records across reloads, and is attached
  // before the first engine loads its policy (the policy's hash goes in each line).
  const recordDir = first.config.main.recordDir;
  const recorder =
    recordDir === null
      ? null
      : Recorder.open({
          dir: recordDir,
          maxBytes: first.config.main.recordMaxSize,
          maxFiles: first.config.main.recordMaxFiles,
          ...(first.config.main.recordRotateEvery !== null
            ? { rotateEvery: first.config.main.recordRotateEvery }
            : {}),
          version: VERSION,
          historyLength: () => current.config.main.sampleHistoryLength,
          log,
        });
  const detachRecorder = recorder?.attach(events);
  if (recorder !== null) log.info({ record_dir: recordDir }, `recording policy cycles in ${recordDir}`);
  try {
    api = await startDashboardAndApi(current.config, model, commands, log, timeline, opts.dashboard);
    const rpcPort = first.config.main.rpcPort;
    if (rpcPort !== null) {
      // Loaded only when served: the XML-RPC server and its XML parser cost memory otherwise.
      const { startRpc } = await import('./momd-rpc.js');
      rpc = await startRpc(rpcPort, model, commands, log);
      log.info({ rpc: rpc.where }, `MOM's XML-RPC served on ${rpc.where}`);
    }
    if (metricsModule !== null && metrics !== null && listen !== null) {
      metricsServer = await metricsModule.startMetricsServer(metrics.registry, listen);
      log.info({ metrics: metricsServer.url }, `metrics served at ${metricsServer.url}`);
    }
    for (;;) {
      engine = createEngine({
        settings: engineSettings(current.config),
        hypervisor: backend.hypervisor,
        host: backend.host,
        now: () => backend.clock.now(),
        log,
        policy: current.policy,
        events,
        dryRun,
      });
      emitSettings();
      if (dryRun()) sayDryRun();
      if (engine.policy.files.length === 0)
        log.warn({ code: 'MOM_W_NO_POLICY' }, 'no policy in force: momd monitors and applies nothing');
      log.info(
        { ...backend.description, policy: engine.policy.files },
        `momd started (${Object.entries(backend.description)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')})`,
      );
      if (!apiAnnounced) for (const h of api.hints) log.info(h.fields, h.message);
      apiAnnounced = true;
      // systemd (Type=notify): running, at start and after each reload.
      await notifier?.notify({ READY: '1', STATUS: `running, policy: ${engine.policy.files.length} files` });
      notifier?.startWatchdog();
      const detachMetrics = metrics?.attach(engine.events);
      const detachPlots = plots?.attach(engine.events);
      const hook = current.config.main.contentionHook;
      const detachHook = hook === null ? undefined : attachContentionHook(engine.events, hook, log);
      stopRun = new AbortController();
      const run = AbortSignal.any([signal, stopRun.signal]);
      // A failing task (libvirtd down, say) is logged when its error changes and when it recovers,
      // not on every run.
      const failing = new Map<string, string>();
      const timeoutS = current.config.main.taskTimeout;
      await runTasks(engine.tasks, backend.clock, run, {
        ...(opts.duration !== undefined ? { until: start + opts.duration } : {}),
        ...(timeoutS > 0 ? { timeoutS } : {}),
        onLate: (task, ms) =>
          log.warn(
            { task, ms: Math.round(ms) },
            `task ${task} ended at last, after ${(ms / 1000).toFixed(1)} s: it runs again`,
          ),
        onError: (task, err) => {
          const message = (err as Error).message;
          const level = failing.get(task) === message ? 'debug' : 'error';
          failing.set(task, message);
          log[level](
            { task, err: message, code: codeOf(err) === 'MOM_E_FATAL' ? 'MOM_E_TASK' : codeOf(err) },
            `task ${task} failed: ${message}`,
          );
        },
        onSuccess: (task) => {
          if (failing.delete(task)) log.info({ task }, `task ${task} works again`);
        },
      });
      // A guest paused for contention runs again before the engine goes (shutdown or reload).
      await engine.stop();
      engine = undefined;
      detachMetrics?.();
      detachPlots?.();
      detachHook?.();
      const next = pending;
      pending = undefined;
      if (signal.aborted || next === undefined) break;
      // A good new configuration: a new engine, and a new backend only when the backend's own
      // settings changed (a reload keeps QMP connections and the simulated host). KSM is not
      // restored in between; a new host carries the settings found at start, to restore at the end.
      // zswap likewise while momd keeps owning it; a configuration that lets go of it gets it back
      // as found, now.
      if (drivesZswap(current.config) && !drivesZswap(next.config))
        await restoreZswap(backend, log, 'the new configuration does not let momd drive zswap');
      if (!sameBackend(current.config, next.config)) {
        await backend.close({ restore: false });
        backend = createBackend(next.config, { onWarning, previous: backend });
      }
      current = next;
      log.info({ file: current.config.file }, 'configuration reloaded');
    }
  } finally {
    // Left by a failure: still no guest stays paused by us.
    await engine?.stop();
    unsubscribe?.();
    offPolicy();
    await api?.close();
    await rpc?.close();
    notifier?.stop();
    await notifier?.notify({ STOPPING: '1' });
    await metricsServer?.close();
    plots?.close();
    detachRecorder?.();
    // The last cycles written and the file closed, so a replay reads them.
    await recorder?.close();
    await closeBackend(backend, current.config, log);
  }
  log.info(signal.aborted ? 'momd stopped by signal' : 'momd finished its --duration');
  return 0;
}

/** The recording's keys, to tell a reload that changes them (they need a restart). */
function recordSettings(c: MomConfig): unknown[] {
  return [c.main.recordDir, c.main.recordMaxSize, c.main.recordMaxFiles, c.main.recordRotateEvery];
}

/** The control API's keys, to tell a reload that changes them (they need a restart). */
function apiSettings(c: MomConfig): string {
  const m = c.main;
  return JSON.stringify([m.apiSocket, m.apiListen, m.apiTokenFile, m.apiTlsCert, m.apiTlsKey]);
}

/** Whether two configurations describe the same backend (so a reload can keep it). */
function sameBackend(a: MomConfig, b: MomConfig): boolean {
  const keys = [
    'hypervisorInterface',
    'libvirtHypervisorUri',
    'qmpSocketGlob',
    'hostMemorySource',
    'simulatorScenario',
    'simulatorSeed',
    'simulatorSpeed',
  ] as const;
  return keys.every((k) => a.main[k] === b.main[k]);
}

/** Whether this configuration lets momd drive zswap: zswap-owned and the Zswap controller. */
function drivesZswap(config: MomConfig): boolean {
  return config.main.zswapOwned && config.main.controllers.includes('Zswap');
}

/** Puts zswap back as found when momd changed it; a failure is logged, not thrown. */
async function restoreZswap(backend: Backend, log: Logger, why: string): Promise<void> {
  try {
    const back = await backend.host.restoreZswap();
    if (Object.keys(back).length > 0)
      log.info({ zswap: back }, `zswap settings restored to those found at start (${why})`);
  } catch (err) {
    log.error({ err: (err as Error).message, code: codeOf(err) }, 'could not restore the zswap settings');
  }
}

/** deflate-on-exit: every guest gets its maximum back; failures are logged, not thrown. */
async function deflateOnExit(backend: Backend, log: Logger): Promise<void> {
  try {
    const r = await deflateAll(backend.hypervisor, AbortSignal.timeout(30_000));
    for (const d of r.deflated)
      log.info(
        { guest: d.name, old: d.from, new: d.to },
        `deflate-on-exit: balloon of ${d.name}: ${d.from} → ${d.to}`,
      );
    for (const f of r.failed)
      log.error(
        { guest: f.name, err: f.error, code: 'MOM_W_CONTROL_FAILED' },
        `deflate-on-exit: ${f.name} could not be given its memory back: ${f.error}`,
      );
    log.info(
      { deflated: r.deflated.length, untouched: r.untouched.length, failed: r.failed.length },
      `deflate-on-exit: ${r.deflated.length} guests given their maximum back, ${r.untouched.length} already there, ${r.failed.length} failed`,
    );
  } catch (err) {
    log.error(
      { err: (err as Error).message, code: codeOf(err) },
      `deflate-on-exit failed: ${(err as Error).message}`,
    );
  }
}

/**
 * Closes the backend, restoring KSM when configured and zswap when momd changed it; a failure to
 * restore is logged, not thrown.
 */
async function closeBackend(backend: Backend, config: MomConfig, log: Logger): Promise<void> {
  if (config.main.deflateOnExit) await deflateOnExit(backend, log);
  await restoreZswap(backend, log, 'momd stops');
  const restore = config.main.ksmRestoreOnExit;
  try {
    await backend.close({ restore });
    if (restore && backend.kind !== 'simulated') log.info('KSM settings restored to those found at start');
  } catch (err) {
    log.error({ err: (err as Error).message, code: codeOf(err) }, 'could not restore the KSM settings');
  }
}

function overridesFrom(opts: MomdOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, v: string | undefined): void => {
    if (v !== undefined) out[key] = v;
  };
  set('main.simulator-scenario', opts.scenario);
  set('main.simulator-seed', opts.seed);
  set('main.simulator-speed', opts.speed);
  set('main.policy', opts.policy ?? opts.rulesFile);
  set('main.policy-dir', opts.policyDir);
  set('main.plot-dir', opts.plotDir);
  set('main.record-dir', opts.record);
  set('logging.verbosity', opts.verbosity ?? opts.verbose);
  set('logging.log', opts.log);
  if (opts.dryRun === true) out['main.dry-run'] = 'true';
  set('main.api-socket', opts.apiSocket);
  return out;
}

function parseFormat(v: string): LogFormat {
  if (v !== 'json' && v !== 'pretty') throw new InvalidArgumentError("expected 'json' or 'pretty'");
  return v;
}
const DASHBOARD_DEFAULT = { host: '127.0.0.1', port: 8181 } as const;

function parseDashboard(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):([0-9]{1,5})$/.exec(v);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65535))
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8181');
  const refused = notLoopback(host);
  if (refused !== null) throw new InvalidArgumentError(refused);
  return { host, port };
}

/**
 * Starts the API with the dashboard. With a bare --dashboard, a busy default port is not an
 * error: the dashboard takes a free port and the URL says which.
 */
async function startDashboardAndApi(
  config: MomConfig,
  model: ReadModel,
  commands: ReturnType<typeof createDaemonCommands>,
  log: Logger,
  timeline: Timeline,
  option: MomdOptions['dashboard'],
): Promise<RunningApi> {
  const assets = loadAssets();
  if (option === undefined) return startApi(config, model, commands, log, { timeline, assets });
  const listen = option === true ? DASHBOARD_DEFAULT : option;
  try {
    return await startApi(config, model, commands, log, { timeline, assets, listen });
  } catch (err) {
    if (option !== true || !/EADDRINUSE/.test((err as Error).message)) throw err;
    log.info(`port ${listen.port} is in use: the dashboard takes a free port`);
    return startApi(config, model, commands, log, { timeline, assets, listen: { ...listen, port: 0 } });
  }
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}
