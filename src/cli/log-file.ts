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
import { Writable } from 'node:stream';
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

/** How long a log file that cannot be written is left alone before momd tries it again. */
export const LOG_RETRY_MS = 10_000;

/**
 * A log file that cannot take momd down. A write that fails (the disk full, the file system gone
 * read-only) marks the file broken: it is said once on stderr, the lines are dropped and counted,
 * and after LOG_RETRY_MS the file is opened again; once a line is written, stderr says so and how
 * many were lost. Wraps what `open` returns (the rotating stream, or a plain append stream).
 */
export class ResilientLogFile extends Writable {
  private inner: Writable | null = null;
  private brokenAt: number | null = null;
  private dropped = 0;

  constructor(
    private readonly path: string,
    private readonly open: () => Writable,
    private readonly report: (message: string) => void,
    private readonly now: () => number = () => Date.now(),
  ) {
    super({ decodeStrings: false });
    this.inner = this.attach(open());
  }

  private attach(stream: Writable): Writable {
    stream.on('error', (err: Error) => this.broke(stream, err));
    return stream;
  }

  private broke(stream: Writable, err: Error): void {
    if (this.inner !== stream) return;
    this.inner = null;
    stream.destroy();
    if (this.brokenAt === null)
      this.report(
        `momd: cannot write the log ${this.path}: ${err.message}; its lines are dropped until it can be written again (tried every ${LOG_RETRY_MS / 1000} s)`,
      );
    this.brokenAt = this.now();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.inner === null && this.brokenAt !== null && this.now() - this.brokenAt >= LOG_RETRY_MS) {
      try {
        this.inner = this.attach(this.open());
        this.brokenAt = this.now(); // stays "broken" for the report until a write succeeds
      } catch {
        this.brokenAt = this.now();
      }
    }
    const inner = this.inner;
    if (inner === null) {
      this.dropped++;
      done();
      return;
    }
    const lost = this.dropped;
    inner.write(chunk, (err) => {
      if (err || this.brokenAt === null) return;
      this.brokenAt = null;
      this.dropped -= lost;
      this.report(`momd: the log ${this.path} is written again; ${lost} lines were dropped meanwhile`);
    });
    // The caller never waits on, or fails with, the file: a broken file only drops lines.
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    const inner = this.inner;
    if (inner === null) return done();
    inner.end(() => done());
  }
}
