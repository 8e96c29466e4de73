// A process as the bench scripts watch it from outside: its CPU time, read with momd's own
// /proc/PID/stat parser.
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../src/hypervisors/linux/process.js';
import { USER_HZ } from '../src/hypervisors/linux/qemu-processes.js';

/** The process's CPU time so far (user + system), in seconds. */
export function cpuSeconds(pid: number): number {
  const path = `/proc/${pid}/stat`;
  const st = parseProcStat(readFileSync(path, 'utf8'), path);
  return (st.utime + st.stime) / USER_HZ;
}
