// What the benchmark reads from a guest's serial console: memload's once-a-second lines, the
// guest init's paging counters, and the guest kernel's OOM messages. The console is a file QEMU
// appends to; SerialTail reads what is new and stamps each whole line with the host's clock, so
// that lines can be cut to the measuring window.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';

/** A console line and when the host saw it (ms since the epoch). */
export interface Stamped {
  t: number;
  line: string;
}

export interface MemloadLine {
  t: number;
  sizeMiB: number;
  throughputMiBs: number;
}

export interface GuestVmstat {
  pswpin: number;
  pswpout: number;
  pgmajfault: number;
}

/** A `memload t=<s> size_mib=<n> throughput_mib_s=<x>` line, or undefined. */
export function parseMemloadLine(line: string): MemloadLine | undefined {
  const m = /memload t=(\d+) size_mib=(\d+) throughput_mib_s=([\d.]+)/.exec(line);
  if (!m) return undefined;
  return { t: Number(m[1]), sizeMiB: Number(m[2]), throughputMiBs: Number(m[3]) };
}

/** A `MOMD-GUEST-VMSTAT pswpin=.. pswpout=.. pgmajfault=..` line, or undefined. */
export function parseVmstatLine(line: string): GuestVmstat | undefined {
  const m = /MOMD-GUEST-VMSTAT pswpin=(\d+) pswpout=(\d+) pgmajfault=(\d+)/.exec(line);
  if (!m) return undefined;
  return { pswpin: Number(m[1]), pswpout: Number(m[2]), pgmajfault: Number(m[3]) };
}

/** The guest kernel's OOM killer ended a process ("Out of memory: Killed process N (name) ..."). */
export function isGuestOomKill(line: string): boolean {
  return /Killed process \d+/.test(line);
}

/** The guest's init saw memload end (killed or failed). */
export function isMemloadExit(line: string): boolean {
  return /momd-guest: memload exited/.test(line);
}

/** Stamped lines whose host time is within [from, to]. */
export function within(lines: readonly Stamped[], from: number, to: number): Stamped[] {
  return lines.filter((l) => l.t >= from && l.t <= to);
}

/** Splits appended text into whole lines (\r dropped) and the unfinished rest. */
export function splitLines(pending: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (pending + chunk).replace(/\r/g, '').split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.filter((l) => l !== ''), rest };
}

/** Follows a serial log file: poll() stamps and keeps the lines appended since the last call. */
export class SerialTail {
  readonly lines: Stamped[] = [];
  private fd: number | undefined;
  private offset = 0;
  private rest = '';
  private readonly buffer = Buffer.alloc(64 * 1024);

  constructor(readonly path: string) {}

  poll(now = Date.now()): void {
    if (this.fd === undefined) {
      if (!existsSync(this.path)) return;
      this.fd = openSync(this.path, 'r');
    }
    let text = '';
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      text += this.buffer.toString('latin1', 0, n);
    }
    if (text === '') return;
    const { lines, rest } = splitLines(this.rest, text);
    this.rest = rest;
    for (const line of lines) this.lines.push({ t: now, line });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
