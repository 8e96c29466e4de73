// momctl as the control API's client (docs/api.md): status, guests, guest, host, policy
// get|set|reload, dry-run, verbosity, snapshot, decisions and watch. Where the daemon is: --socket,
// --url, --token/--token-file, or MOMD_SOCKET, MOMD_URL, MOMD_TOKEN, MOMD_TOKEN_FILE. A daemon that
// does not answer, or refuses, is one line on stderr and exit 1.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient, type ApiTarget } from '../api/client.js';
import { VERBOSITIES } from '../api/command-port.js';
import type {
  DecisionView,
  GuestDetailView,
  GuestRowView,
  HostView,
  PolicyFilesView,
  StatusView,
} from '../api/views.js';
import { forwardDashboard } from '../dashboard/forward.js';
import { notLoopback } from '../dashboard/loopback.js';
import { serveRecording } from '../dashboard/serve-recording.js';
import { MomError } from '../errors.js';
import { GUEST_FIELDS, HOST_FIELDS } from '../fields/catalogue.js';
import { readPolicySources } from '../policy/sources.js';
import type { Io } from './policy-command.js';
import { parseTime } from './replay-command.js';
import { decisionTable, guestTable, mib, statusText, table } from './tables.js';
import { VERSION } from './version.js';

interface TargetOptions {
  socket?: string;
  url?: string;
  token?: string;
  tokenFile?: string;
}

/** The global options momctl's API commands read. */
export function addTargetOptions(program: Command): void {
  program
    .option(
      '--socket <path>',
      'momd API unix socket (MOMD_SOCKET; default: /run/momd/api.sock, then per-user places)',
    )
    .option('--url <url>', 'momd API over TCP, http(s)://HOST:PORT (MOMD_URL)')
    .option('--token <token>', 'bearer token for --url (MOMD_TOKEN; prefer --token-file)')
    .option('--token-file <file>', 'file whose first line is the bearer token (MOMD_TOKEN_FILE)');
}

function targetOf(opts: TargetOptions, env: NodeJS.ProcessEnv): ApiTarget {
  const socket = opts.socket ?? env['MOMD_SOCKET'];
  const url = opts.url ?? env['MOMD_URL'];
  let token = opts.token ?? env['MOMD_TOKEN'];
  const tokenFile = opts.tokenFile ?? env['MOMD_TOKEN_FILE'];
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = (readFileSync(tokenFile, 'utf8').split('\n')[0] ?? '').trim();
    } catch (err) {
      throw new MomError(
        'MOM_E_INPUT',
        `${tokenFile}: cannot read the token: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  return {
    ...(url !== undefined && url !== '' ? { url } : socket !== undefined && socket !== '' ? { socket } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
  };
}

export function registerApiCommands(
  program: Command,
  policy: Command,
  io: Io,
  setExit: (code: number) => void,
  env: NodeJS.ProcessEnv = process.env,
): void {
  /** An action that talks to momd: a refusal or no answer is one line on stderr and exit 1. */
  const withClient =
    <A extends unknown[]>(fn: (client: ApiClient, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(new ApiClient(targetOf(program.opts<TargetOptions>(), env)), ...args);
      } catch (err) {
        if (!(err instanceof MomError)) throw err;
        io.err(`momctl: ${err.message}`);
        setExit(1);
      }
    };
  const json = (v: unknown): void => io.out(JSON.stringify(v, null, 2));

  program
    .command('status')
    .description("the daemon's state: version, uptime, backend, policy, last cycle, dry run, recent errors")
    .option('--json', 'print the API answer as JSON')
    .action(
      withClient(async (c, opts: { json?: boolean }) => {
        const s = (await c.get('/v1/status')) as StatusView;
        if (opts.json) json(s);
        else io.out(statusText(s));
      }),
    );

  program
    .command('guests')
    .description(
      'one line per guest: size, floor, available, cache (MiB and % of size), swap rates, last action and why',
    )
    .option('--json', 'print the API answer as JSON')
    .action(
      withClient(async (c, opts: { json?: boolean }) => {
        const rows = (await c.get('/v1/guests')) as GuestRowView[];
        if (opts.json) json(rows);
        else io.out(rows.length === 0 ? 'no guests' : guestTable(rows));
      }),
    );

  program
    .command('guest')
    .description('one guest: its latest statistics, the controls wanted and applied, its last action')
    .argument('<name>', 'the guest name')
    .option('--json', 'print the API answer as JSON (with the sample history)')
    .action(
      withClient(async (c, name: string, opts: { json?: boolean }) => {
        const g = (await c.get(`/v1/guests/${encodeURIComponent(name)}`)) as GuestDetailView;
        if (opts.json) return json(g);
        io.out(guestTable([g]));
        io.out('');
        io.out(controlsText(g.wanted, g.applied));
        io.out('');
        io.out(sampleTable(g.latest ?? {}, GUEST_FIELDS));
      }),
    );

  program
    .command('host')
    .description("the host's latest statistics (memory in MiB) and its controls")
    .option('--json', 'print the API answer as JSON (with the sample history)')
    .action(
      withClient(async (c, opts: { json?: boolean }) => {
        const h = (await c.get('/v1/host')) as HostView;
        if (opts.json) return json(h);
        const sample = h.latest?.sample ?? {};
        io.out(`at ${h.latest?.time ?? 'never'}`);
        io.out(sampleTable(sample, HOST_FIELDS));
        io.out('');
        io.out(controlsText(h.wanted, h.applied));
      }),
    );

  policy
    .command('get')
    .description('print the policy in force, each file under a "# ==> NAME <==" line')
    .option('--json', 'print the API answer as JSON')
    .action(
      withClient(async (c, opts: { json?: boolean }) => {
        const p = (await c.get('/v1/policy')) as PolicyFilesView;
        if (opts.json) return json(p);
        for (const s of p.sources) io.out(`# ==> ${s.name} <==\n${s.text.replace(/\n$/, '')}`);
      }),
    );

  policy
    .command('set')
    .description(
      'replace the policy in force with these files (checked first; a bad set is refused and the old one kept)',
    )
    .argument('<files...>', 'policy files or directories (a directory: its *.policy files by name)')
    .action(
      withClient(async (c, files: string[]) => {
        const sources = readPolicySourcesForUpload(files);
        const r = (await c.call('PUT', '/v1/policy', {
          files: sources.map((s) => ({ name: s.file, text: s.text })),
        })) as { files: string[]; hash: string; warnings: string[] };
        for (const w of r.warnings) io.err(w);
        io.out(`policy set: ${r.files.length} file(s), sha256 ${r.hash.slice(0, 12)}`);
      }),
    );

  policy
    .command('reload')
    .description('read the configuration and the policy files again (as SIGHUP does)')
    .action(
      withClient(async (c) => {
        await c.call('POST', '/v1/reload');
        io.out('reloaded');
      }),
    );

  program
    .command('dry-run')
    .description('on: evaluate and log, apply nothing; off: apply again')
    .argument('<on|off>', 'on or off', (v) => {
      if (v !== 'on' && v !== 'off') throw new InvalidArgumentError("expected 'on' or 'off'");
      return v;
    })
    .action(
      withClient(async (c, state: 'on' | 'off') => {
        const r = (await c.call('PUT', '/v1/dry-run', { enabled: state === 'on' })) as { dryRun: boolean };
        io.out(`dry run ${r.dryRun ? 'on: nothing is applied' : 'off'}`);
      }),
    );

  program
    .command('verbosity')
    .description(`set the daemon's log level: ${VERBOSITIES.join(', ')}`)
    .argument('<level>', 'the level', (v) => {
      if (!(VERBOSITIES as readonly string[]).includes(v))
        throw new InvalidArgumentError(`expected one of ${VERBOSITIES.join(', ')}`);
      return v;
    })
    .action(
      withClient(async (c, level: string) => {
        const r = (await c.call('PUT', '/v1/verbosity', { level })) as { verbosity: string };
        io.out(`verbosity ${r.verbosity}`);
      }),
    );

  program
    .command('snapshot')
    .description(
      "print the last cycle's snapshot as JSON (replay it: momctl policy run --snapshot FILE POLICY)",
    )
    .action(
      withClient(async (c) => {
        io.out(JSON.stringify(await c.get('/v1/snapshot')));
      }),
    );

  program
    .command('decisions')
    .description('the recent decisions: controls applied, and changes in why one was skipped or failed')
    .option('--limit <n>', 'how many (default 50)', positiveInt)
    .option('--json', 'print the API answer as JSON')
    .action(
      withClient(async (c, opts: { limit?: number; json?: boolean }) => {
        const d = (await c.get(`/v1/decisions?limit=${opts.limit ?? 50}`)) as DecisionView[];
        if (opts.json) return json(d);
        io.out(d.length === 0 ? 'no decisions yet' : decisionTable(d));
      }),
    );

  program
    .command('dashboard')
    .description(
      "the dashboard's URL. Over the unix socket, momctl serves it on a loopback port (reads only, behind a token made now, in the URL) until Ctrl-C; with --recording, a recording instead of the live daemon",
    )
    .option('--host <address>', 'loopback address to listen on', loopbackHost, '127.0.0.1')
    .option('--port <n>', 'port to listen on (default: a free one)', portNumber)
    .option('--open', "open it in the desktop's browser (xdg-open)")
    .option(
      '--recording <dir>',
      'show a recording (momd --record DIR), read-only, instead of the live daemon',
    )
    .option('--from <time>', 'with --recording: first cycle, an ISO time or a time ago (-1h)')
    .option('--to <time>', 'with --recording: last cycle, as --from')
    .action(async (opts: DashboardOpts) => {
      if (opts.recording !== undefined) return dashboardOfRecording(opts.recording, opts);
      if (opts.from !== undefined || opts.to !== undefined) {
        io.err('momctl: --from and --to go with --recording');
        return setExit(2);
      }
      return liveDashboard(opts);
    });
  const liveDashboard = withClient(async (c, opts: DashboardOpts) => {
    await c.get('/v1/status');
    const socket = c.socket;
    if (socket === null) {
      // Over TCP the dashboard is momd's own page; its token is the API's.
      const token = targetOf(program.opts<TargetOptions>(), env).token;
      const url = `${c.describe()}/${token === undefined ? '' : `#token=${token}`}`;
      io.out(`dashboard: ${url}`);
      if (opts.open) openBrowser(url, io);
      return;
    }
    const f = await forwardDashboard({ socket, host: opts.host, port: opts.port ?? 0 }).catch(
      (err: Error) => {
        throw new MomError(
          'MOM_E_API_REQUEST',
          `cannot listen on ${opts.host}:${opts.port ?? 0}: ${err.message}`,
        );
      },
    );
    io.out(`dashboard: ${f.url}\n(reads forwarded to ${socket}; Ctrl-C ends it)`);
    if (opts.open) openBrowser(f.url, io);
    await untilStopped();
    await f.close();
  });
  const dashboardOfRecording = async (dir: string, opts: DashboardOpts): Promise<void> => {
    try {
      const now = new Date();
      const served = await serveRecording(dir, {
        version: VERSION,
        host: opts.host,
        port: opts.port ?? 0,
        ...(opts.from !== undefined ? { from: parseTime(opts.from, '--from', now) } : {}),
        ...(opts.to !== undefined ? { to: parseTime(opts.to, '--to', now) } : {}),
        onWarning: (w) => io.err(`momctl dashboard: ${w.message}`),
      });
      io.out(
        `dashboard: ${served.url}\n(recording ${dir}: ${served.cycles} cycles from ${served.from} to ${served.to}, read-only; Ctrl-C ends it)`,
      );
      if (opts.open) openBrowser(served.url, io);
      await untilStopped();
      await served.close();
    } catch (err) {
      if (!(err instanceof MomError) && !(err instanceof RangeError)) throw err;
      io.err(`momctl dashboard: ${err.message}`);
      setExit(1);
    }
  };

  program
    .command('watch')
    .description('a live table of the guests, redrawn at every cycle from the event stream (Ctrl-C ends it)')
    .option('--cycles <n>', 'stop after this many cycles', positiveInt)
    .action(
      withClient(async (c, opts: { cycles?: number }) => {
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        const tty = process.stdout.isTTY === true;
        const recent: DecisionView[] = [];
        let cycles = 0;
        try {
          await c.stream(
            '/v1/events',
            (e) => {
              if (e.event === 'decision') {
                recent.push(e.data as DecisionView);
                recent.splice(0, Math.max(0, recent.length - 5));
                return;
              }
              if (e.event !== 'cycle') return;
              const cycle = e.data as {
                time: string;
                durationMs: number;
                status: string;
                dryRun: boolean;
                guestRows: GuestRowView[];
              };
              const screen = [
                `${cycle.time}  cycle ${cycle.status} in ${cycle.durationMs} ms${cycle.dryRun ? '  DRY RUN' : ''}`,
                guestTable(cycle.guestRows),
                ...(recent.length > 0 ? ['', decisionTable(recent)] : []),
              ].join('\n');
              io.out(tty ? `\u001b[H\u001b[2J${screen}` : `${screen}\n`);
              if (opts.cycles !== undefined && ++cycles >= opts.cycles) stop.abort();
            },
            stop.signal,
          );
        } finally {
          process.off('SIGINT', onSignal);
        }
      }),
    );
}

interface DashboardOpts {
  host: string;
  port?: number;
  open?: boolean;
  recording?: string;
  from?: string;
  to?: string;
}

function loopbackHost(v: string): string {
  const refused = notLoopback(v);
  if (refused !== null) throw new InvalidArgumentError(refused);
  return v;
}

/** Resolves on Ctrl-C or SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function portNumber(v: string): number {
  const n = Number(v);
  if (!/^[0-9]{1,5}$/.test(v) || n > 65535)
    throw new InvalidArgumentError('expected a port number, 0 to 65535');
  return n;
}

/** xdg-open, when the desktop has it; otherwise the printed URL is enough. */
function openBrowser(url: string, io: Io): void {
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => io.err('momctl: xdg-open is not available: open the URL above yourself'));
  child.unref();
}

/** One line per statistic; memory (KiB in the API) in MiB. */
function sampleTable(
  sample: Readonly<Record<string, unknown>>,
  fields: Readonly<Record<string, { readonly unit: string }>>,
): string {
  return table(
    Object.entries(sample).map(([k, v]) =>
      fields[k]?.unit === 'KiB' && typeof v === 'number' ? [k, `${mib(v)} MiB`] : [k, String(v)],
    ),
  );
}

function controlsText(
  wanted: Readonly<Record<string, unknown>>,
  applied: Readonly<Record<string, DecisionView>>,
): string {
  const names = [...new Set([...Object.keys(wanted), ...Object.keys(applied)])].sort();
  if (names.length === 0) return 'no controls';
  return table([
    ['CONTROL', 'WANTED', 'OUTCOME', 'OLD', 'NEW', 'WHY'],
    ...names.map((n) => {
      const a = applied[n];
      return [
        n,
        wanted[n] === undefined ? '-' : String(wanted[n]),
        a?.outcome ?? '-',
        String(a?.old ?? '-'),
        String(a?.new ?? '-'),
        a?.reason ?? '-',
      ];
    }),
  ]);
}

function readPolicySourcesForUpload(files: readonly string[]): ReturnType<typeof readPolicySources> {
  try {
    return readPolicySources(files);
  } catch (err) {
    throw new MomError('MOM_E_INPUT', (err as Error).message);
  }
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  return n;
}
