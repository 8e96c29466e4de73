// What the QMP backend reads from /proc about a guest's QEMU process: which process serves a
// socket, its arguments and its resident memory. Reads files only (never `ps`); every path is
// built from an injected procRoot so tests can use a fixture tree.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The pid of the process whose command line names `socketPath` (as in `-qmp unix:PATH,...` or
 * `-chardev socket,path=PATH,...`). Node cannot read a unix socket's peer credentials
 * (SO_PEERCRED), so we look for the path instead. An argument naming the same file through
 * another path (a symlinked /var/run) matches by device and inode. Null when none matches.
 */
export async function findQemuPid(procRoot: string, socketPath: string): Promise<number | null> {
  const base = path.basename(socketPath);
  const target = await stat(socketPath).catch(() => null);
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return null;
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  pids.sort((a, b) => a - b);
  for (const pid of pids) {
    const args = await readCmdline(procRoot, pid);
    if (args === null) continue;
    for (const candidate of socketPathsIn(args)) {
      if (path.basename(candidate) !== base) continue;
      if (candidate === socketPath) return pid;
      if (target !== null && path.isAbsolute(candidate)) {
        const s = await stat(candidate).catch(() => null);
        if (s !== null && s.dev === target.dev && s.ino === target.ino) return pid;
      }
    }
  }
  return null;
}

/** The paths an argument list might give a unix socket: `unix:P`, `path=P`, or a bare `P`. */
function socketPathsIn(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    for (const part of arg.split(',')) {
      if (part.startsWith('unix:')) out.push(part.slice(5));
      else if (part.startsWith('path=')) out.push(part.slice(5));
      else if (part.startsWith('/')) out.push(part);
    }
  }
  return out;
}

/** The process's arguments (NUL-separated in /proc/PID/cmdline), or null when it is gone. */
export async function readCmdline(procRoot: string, pid: number): Promise<string[] | null> {
  try {
    const text = await readFile(path.join(procRoot, String(pid), 'cmdline'), 'utf8');
    const args = text.split('\0');
    if (args[args.length - 1] === '') args.pop();
    return args;
  } catch {
    return null;
  }
}

/** VmRSS from /proc/PID/status (the kernel already reports KiB), or null when unreadable. */
export async function readRssKiB(procRoot: string, pid: number): Promise<number | null> {
  try {
    const text = await readFile(path.join(procRoot, String(pid), 'status'), 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
    return m?.[1] !== undefined ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
