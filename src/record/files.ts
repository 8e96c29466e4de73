// The names of a recording's files in its folder: the file being written is `current.jsonl`
// (plain text); a rotated file is `cycles-<UTC time of its rotation>-<NNN>.jsonl.gz` (gzip), so
// rotated files sort by name in the order they were written, and the current file comes last.
// rotating-file-stream keeps the list of rotated files in `rotated.txt` for record-max-files.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CURRENT_FILE = 'current.jsonl';
export const HISTORY_FILE = 'rotated.txt';
const ROTATED = /^cycles-\d{8}T\d{6}Z-\d{3}\.jsonl\.gz$/;

/**
 * The name for a file rotated at `time`: its UTC second, then a number above any file of the same
 * second in `dir` (so that a name freed by record-max-files is never taken again, which would
 * sort a newer file before older ones). `attempt` (1, 2, ...) is rotating-file-stream's try.
 */
export function rotatedName(dir: string, time: Date, attempt: number): string {
  const stamp = time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const prefix = `cycles-${stamp}-`;
  let used = 0;
  for (const n of readdirSync(dir))
    if (n.startsWith(prefix) && ROTATED.test(n))
      used = Math.max(used, Number(n.slice(prefix.length, prefix.length + 3)));
  return `${prefix}${String(used + attempt).padStart(3, '0')}.jsonl.gz`;
}

/**
 * The recording's files in `dir` in the order they were written: the rotated ones by name, then
 * the current one. Throws what readdirSync throws (ENOENT for a missing folder).
 */
export function recordingFiles(dir: string): string[] {
  const names = readdirSync(dir);
  const rotated = names.filter((n) => ROTATED.test(n)).sort();
  const current = names.includes(CURRENT_FILE) ? [CURRENT_FILE] : [];
  return [...rotated, ...current].map((n) => join(dir, n));
}
