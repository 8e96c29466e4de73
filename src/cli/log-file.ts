// The log file with MOM's rotation (Python's RotatingFileHandler, as MOM configures it from
// [logging] max-bytes and backup-count): the log is always written at its configured path; when it
// reaches max-bytes it is renamed LOG.1, an existing LOG.1 becomes LOG.2 and so on, and at most
// backup-count old files are kept (the oldest is deleted). max-bytes or backup-count 0: never
// rotated, as in Python.
//
// Why rotating-file-stream and not pino-roll: pino-roll writes numbered files (log.1, log.2, ...)
// whose newest carries the highest number and never renames them, so the live log is not at the
// configured path and the numbering is the reverse of MOM's; rotating-file-stream's classical
// mode (`rotate`) is the logrotate scheme MOM users expect. One difference from Python: the
// check comes after a write, so a file can pass max-bytes by one log line before it is rotated.
import { createRequire } from 'node:module';
import type { RotatingFileStream } from 'rotating-file-stream';

// Loaded when a rotated log file is asked for, not at every start of momd or momctl.
const load = (): typeof import('rotating-file-stream') =>
  createRequire(import.meta.url)('rotating-file-stream') as typeof import('rotating-file-stream');

export interface LogFileOptions {
  readonly maxBytes: number;
  readonly backupCount: number;
}

/** A stream appending to `path`, rotated as above; null when the options say never to rotate. */
export function rotatingLogFile(path: string, opts: LogFileOptions): RotatingFileStream | null {
  if (opts.maxBytes <= 0 || opts.backupCount <= 0) return null;
  // In classical mode the generator is called with the index alone (its first argument), and
  // with null for the live file.
  const name = (index: number | Date | null): string =>
    typeof index === 'number' && index > 0 ? `${path}.${index}` : path;
  return load().createStream(name, { size: `${opts.maxBytes}B`, rotate: opts.backupCount });
}
