// momd's pid file (MOM's --pid-file): the daemon's pid, written when it starts and removed when it
// ends, so that a service manager or a second momd can tell whether one runs. The file is created
// exclusively (O_EXCL), so two momd starting together cannot both think they own it.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MomError } from '../errors.js';

export interface PidFile {
  readonly path: string;
  /** Removes the file if it still holds our pid (another momd may have replaced it meanwhile). */
  release(): void;
}

export interface PidFileOptions {
  /** The pid to write; default this process's. */
  readonly pid?: number;
  /** Where a process's command line is read (`<procRoot>/<pid>/cmdline`); default /proc. */
  readonly procRoot?: string;
}

/**
 * Writes the pid to `path` (absolute). A file left behind by a process that is gone, or whose
 * pid now belongs to a process that is not momd, is stale and replaced. Throws MomError
 * MOM_E_PID_FILE when a running momd holds the file, or when the file cannot be written.
 */
export function acquirePidFile(path: string, opts: PidFileOptions = {}): PidFile {
  const pid = opts.pid ?? process.pid;
  const procRoot = opts.procRoot ?? '/proc';
  // Two tries: the second after removing a stale file.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${pid}\n`);
      } finally {
        closeSync(fd);
      }
      return { path, release: () => release(path, pid) };
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST')
        throw new MomError('MOM_E_PID_FILE', `cannot write the pid file ${path}: ${messageOf(err)}`);
    }
    const holder = pidIn(path);
    if (holder !== null && holder !== pid && isRunningMomd(holder, procRoot))
      throw new MomError(
        'MOM_E_PID_FILE',
        `${path}: momd is already running as pid ${holder}; stop it first, or give another --pid-file`,
      );
    try {
      unlinkSync(path); // stale: its momd is gone
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT')
        throw new MomError('MOM_E_PID_FILE', `cannot replace the stale pid file ${path}: ${messageOf(err)}`);
    }
  }
  throw new MomError(
    'MOM_E_PID_FILE',
    `${path}: another process made the pid file again as soon as the stale one was removed`,
  );
}

function release(path: string, pid: number): void {
  if (pidIn(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or its folder is no longer ours: nothing is left to undo.
  }
}

/** The pid a pid file holds; null when it is unreadable or holds no pid (an empty or torn file). */
function pidIn(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /^\s*(\d+)\s*$/.exec(text);
  const pid = m === null ? NaN : Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Whether `pid` is a live momd: the process exists, and its command line names momd (a pid reused
 * by another program after a crash is not). A live process whose command line cannot be read
 * counts as momd: starting a second daemon is the worse mistake.
 */
function isRunningMomd(pid: number, procRoot: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errnoOf(err) === 'ESRCH') return false;
    // EPERM: it exists, under another user.
  }
  let args: string[];
  try {
    args = readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8').split('\0');
  } catch {
    return true;
  }
  return args.some((a) => /^momd(\.js)?$/.test(basename(a)));
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
