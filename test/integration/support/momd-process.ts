// The momd daemon as a child process: its JSON log lines collected as they come, a wait for a
// line, and a stop that waits for the exit code. For tests that drive the real daemon from the
// outside (metrics, the installed package, systemd readiness).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './guest-image.js';
import { until } from './wait.js';

export type LogLine = Record<string, unknown>;

export interface MomdProcess {
  readonly child: ChildProcess;
  readonly log: LogLine[];
  /** What momd wrote to stderr. */
  stderr(): string;
  /** The first log line (from index `from` on) for which `pred` holds; throws after timeoutMs. */
  waitFor(what: string, pred: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

export function startMomd(
  args: readonly string[],
  /** `log`: append the lines to this array (one log across restarts) instead of a new one. */
  opts: { bin?: string; env?: NodeJS.ProcessEnv; log?: LogLine[] } = {},
): MomdProcess {
  const bin = opts.bin ?? join(repoRoot(), 'bin', 'momd.js');
  const child = spawn(process.execPath, [bin, ...args, '--log-format', 'json'], {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: LogLine[] = opts.log ?? [];
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('{')) log.push(JSON.parse(line) as LogLine);
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    log,
    stderr: () => err,
    waitFor: (what, pred, timeoutMs = 30_000, from = 0) =>
      until(
        `${what} (log so far:\n${log.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${err})`,
        timeoutMs,
        () => log.slice(from).find(pred),
      ),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
