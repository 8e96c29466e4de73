// momd as a child process of the benchmark, as an administrator runs it: `node bin/momd.js -c
// CONF --log-format json`. Its JSON log lines are kept (balloon actions, cycles); its stderr goes to
// a file in the run's folder. stop() sends SIGTERM and waits for it to exit (KILL after 20 s).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogLine } from './metrics.js';

export interface Momd {
  log: LogLine[];
  /** Ends momd (SIGTERM); resolves with its exit code (null when killed). */
  stop(): Promise<number | null>;
  /** momd exited before stop() was called. */
  exitedEarly(): boolean;
}

export function startMomd(repo: string, conf: string, dir: string): Momd {
  const errFd = openSync(join(dir, 'momd.stderr.log'), 'w');
  let child: ChildProcess;
  try {
    // MOMD_BENCH_VERBOSITY=debug shows, with MOMD_BENCH_LOGS, what the policy computed each cycle.
    const verbosity = process.env['MOMD_BENCH_VERBOSITY'];
    const args = [join(repo, 'bin/momd.js'), '-c', conf, '--log-format', 'json'];
    if (verbosity) args.push('--verbosity', verbosity);
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', errFd] });
  } finally {
    closeSync(errFd);
  }
  const log: LogLine[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (l) => {
    if (!l.startsWith('{')) return;
    try {
      log.push(JSON.parse(l) as LogLine);
    } catch {
      // a line cut short by a kill: not a log record
    }
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
    child.on('error', () => {
      exitCode = -1;
      resolve(-1);
    });
  });
  let stopping = false;
  return {
    log,
    exitedEarly: () => exitCode !== undefined && !stopping,
    async stop() {
      stopping = true;
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
