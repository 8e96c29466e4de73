// The recorder ([main] record-dir, momd --record): listens to the engine's events and writes every
// policy cycle as one JSON line (format.ts) to a file rotated by size and gzip-compressed
// (rotating-file-stream), keeping record-max-files rotated files. It never reaches into the
// engine's state, and writing never blocks or fails a cycle: lines go to a queue written one
// chunk at a time, and a file that cannot be written (disk full, folder gone) is said once, its
// lines dropped and counted, and opened again after a pause.
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RotatingFileStream } from 'rotating-file-stream';
import type { Sample } from '../entities/entity.js';
import type { ControlsJson } from '../entities/snapshot.js';
import type { EngineEventMap, EngineEvents } from '../engine/events.js';
import { CURRENT_FILE, HISTORY_FILE, rotatedName } from './files.js';
import { RECORD_FORMAT, type RecordedCycle, type RecordedEntity, type RecordHeader } from './format.js';

// Loaded only when recording is on, not at every start of momd or momctl.
const load = (): typeof import('rotating-file-stream') =>
  createRequire(import.meta.url)('rotating-file-stream') as typeof import('rotating-file-stream');

export interface RecorderOptions {
  /** The folder (made when missing). */
  readonly dir: string;
  /** A file is rotated once it reaches this many bytes (record-max-size). */
  readonly maxBytes: number;
  /** Rotated files kept; the oldest beyond this are deleted (record-max-files). */
  readonly maxFiles: number;
  /** The file is also rotated at this age (record-rotate-every); absent: by size only. */
  readonly rotateEvery?: `${number}d` | `${1 | 2 | 3 | 4 | 6 | 8 | 12}h`;
  /** The momd version, for the header. */
  readonly version: string;
  /** sample-history-length now (a reload may change it). */
  readonly historyLength: () => number;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  /** Wall clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
  /** How long a file that cannot be written is left alone before it is opened again. */
  readonly retryMs?: number;
}

/** How long a recording that cannot be written waits before it is tried again, by default. */
export const RECORD_RETRY_MS = 30_000;

interface Queued {
  readonly line: string;
  /** What the header in force for this line says (fields and history length), as JSON. */
  readonly headerKey: string;
}

export class Recorder {
  private readonly now: () => number;
  private stream: RotatingFileStream | null = null;
  private brokenAt: number | null = null;
  private queue: Queued[] = [];
  private writing = false;
  /** The next chunk must start with a header: a new file was opened. */
  private needHeader = true;
  private lastHeaderKey: string | null = null;
  private dropped = 0;
  private closed = false;
  private idle: (() => void) | null = null;
  // What the events have told so far.
  private policyHash: string | null = null;
  private controls: ControlsJson | null = null;
  private fields: RecordHeader['fields'] = null;
  /** Per entity ('host' or a guest's name): the newest sample already recorded. */
  private readonly lastSample = new Map<string, Sample>();

  private constructor(private readonly opts: RecorderOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Opens the recording in opts.dir; a folder or file that cannot be written is said, not thrown. */
  static open(opts: RecorderOptions): Recorder {
    const r = new Recorder(opts);
    r.openStream();
    return r;
  }

  /** Listens to an engine's events; the returned function stops listening. */
  attach(events: EngineEvents): () => void {
    const offs = [
      events.on('policy', (e) => {
        if (e.ok) this.policyHash = e.hash;
      }),
      events.on('evaluation', (e) => {
        this.controls = e.ok ? e.controls : null;
      }),
      events.on('cycle', (e) => this.onCycle(e)),
    ];
    return () => offs.forEach((off) => off());
  }

  /**
   * Writes what is queued and closes the file; resolves when done, or after `timeoutMs` when the
   * disk does not answer (a stop never hangs on the recording).
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    const stream = this.stream;
    if (stream === null) return;
    const drained = new Promise<void>((resolve) => {
      if (!this.writing && this.queue.length === 0) resolve();
      else this.idle = resolve;
    });
    const ended = drained.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.stream === null) return resolve();
          this.stream.end(() => resolve());
          this.stream.once('error', () => resolve());
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([ended, timeout]);
    clearTimeout(timer);
  }

  private onCycle(e: EngineEventMap['cycle']): void {
    if (this.closed) return;
    const base = {
      kind: 'cycle' as const,
      time: new Date(this.now()).toISOString(),
      at: e.at,
      durationMs: Math.round(e.durationMs * 1000) / 1000,
      dryRun: e.dryRun,
      policyHash: this.policyHash,
    };
    let cycle: RecordedCycle;
    if (e.status === 'skipped') {
      cycle = {
        ...base,
        status: 'skipped',
        detail: e.reason,
        host: null,
        guests: [],
        controls: null,
        outcomes: [],
      };
    } else {
      const { snapshot } = e;
      if (snapshot.fields?.host !== undefined && snapshot.fields.guest !== undefined)
        this.fields = { host: [...snapshot.fields.host], guest: [...snapshot.fields.guest] };
      const seen = new Set<string>(['host']);
      cycle = {
        ...base,
        status: e.status,
        detail: e.status === 'policy-error' ? e.error : null,
        host: this.entity('host', snapshot.host.properties, snapshot.host.stats),
        guests: snapshot.guests.map((g) => {
          seen.add(g.properties.name);
          return { ...this.entity(g.properties.name, g.properties, g.stats), properties: g.properties };
        }),
        controls: e.status === 'done' ? this.controls : null,
        outcomes: e.outcomes
          .filter((o) => o.outcome !== 'unchanged')
          .map((o) => ({
            controller: o.controller,
            entity: o.entity,
            control: o.control,
            outcome: o.outcome as 'applied' | 'skipped' | 'failed',
            old: o.old,
            new: o.new,
            reason: o.reason ?? null,
          })),
      };
      // A guest gone from the snapshot starts a new history when it comes back.
      for (const name of this.lastSample.keys()) if (!seen.has(name)) this.lastSample.delete(name);
    }
    this.controls = null;
    this.enqueue(JSON.stringify(cycle) + '\n');
  }

  /**
   * The samples new since the last line. The engine hands each cycle its kept history, whose
   * samples are the same objects from one cycle to the next: what follows the newest sample
   * already recorded is new. When that sample is no longer there (a new engine after a reload, a
   * guest that came back, more new samples than the history keeps), the whole history is
   * written and marked so, and a replay starts this entity's history again from it.
   */
  private entity(
    name: string,
    properties: Readonly<Record<string, unknown>>,
    stats: readonly Sample[],
  ): RecordedEntity {
    const last = this.lastSample.get(name);
    const i = last === undefined ? -1 : stats.lastIndexOf(last);
    const newest = stats.at(-1);
    if (newest !== undefined) this.lastSample.set(name, newest);
    else this.lastSample.delete(name);
    return i < 0
      ? { properties: { ...properties }, samples: [...stats], newHistory: true }
      : { properties: { ...properties }, samples: stats.slice(i + 1), newHistory: false };
  }

  private enqueue(line: string): void {
    if (this.stream === null) {
      if (this.brokenAt !== null && this.now() - this.brokenAt >= (this.opts.retryMs ?? RECORD_RETRY_MS))
        this.openStream();
      if (this.stream === null) {
        this.dropped++;
        return;
      }
    }
    this.queue.push({
      line,
      headerKey: JSON.stringify({ fields: this.fields, historyLength: this.opts.historyLength() }),
    });
    this.pump();
  }

  /** Writes everything queued as one chunk, one chunk at a time, each header where it belongs. */
  private pump(): void {
    const stream = this.stream;
    if (this.writing || stream === null) return;
    if (this.queue.length === 0) {
      this.idle?.();
      this.idle = null;
      return;
    }
    let chunk = '';
    for (const q of this.queue) {
      if (this.needHeader || q.headerKey !== this.lastHeaderKey) chunk += this.header(q.headerKey);
      this.needHeader = false;
      this.lastHeaderKey = q.headerKey;
      chunk += q.line;
    }
    const lines = this.queue.length;
    this.queue = [];
    this.writing = true;
    stream.write(chunk, (err) => {
      this.writing = false;
      if (err) {
        this.dropped += lines;
        this.broke(stream, err);
        this.idle?.();
        this.idle = null;
        return;
      }
      if (this.brokenAt !== null) {
        this.opts.log.info(
          { record_dir: this.opts.dir, dropped: this.dropped },
          `recording in ${this.opts.dir} resumed; ${this.dropped} cycles were not recorded meanwhile`,
        );
        this.brokenAt = null;
        this.dropped = 0;
      }
      this.pump();
    });
  }

  private header(key: string): string {
    const { fields, historyLength } = JSON.parse(key) as Pick<RecordHeader, 'fields' | 'historyLength'>;
    const h: RecordHeader = {
      kind: 'header',
      format: RECORD_FORMAT,
      momd: this.opts.version,
      time: new Date(this.now()).toISOString(),
      fields,
      historyLength,
    };
    return JSON.stringify(h) + '\n';
  }

  private openStream(): void {
    const { dir } = this.opts;
    try {
      mkdirSync(dir, { recursive: true });
      const cut = cutPartialLine(join(dir, CURRENT_FILE));
      if (cut > 0)
        this.opts.log.warn(
          { code: 'MOM_W_RECORD_TRUNCATED', file: join(dir, CURRENT_FILE), bytes: cut },
          `${join(dir, CURRENT_FILE)}: its last line was cut short (momd stopped mid-write); the ${cut} bytes of it were removed`,
        );
      const name = (time: number | Date | null, index?: number): string =>
        time === null
          ? join(dir, CURRENT_FILE)
          : join(dir, rotatedName(dir, time instanceof Date ? time : new Date(time), index ?? 1));
      const stream = load().createStream(name, {
        size: `${this.opts.maxBytes}B`,
        maxFiles: this.opts.maxFiles,
        ...(this.opts.rotateEvery !== undefined ? { interval: this.opts.rotateEvery } : {}),
        history: join(dir, HISTORY_FILE),
        compress: 'gzip',
      });
      stream.on('error', (err: Error) => this.broke(stream, err));
      stream.on('warning', (err: Error) =>
        this.opts.log.warn(
          { code: 'MOM_W_RECORD_WRITE', record_dir: dir, err: err.message },
          `recording in ${dir}: ${err.message}`,
        ),
      );
      // Each new file starts with a header (the chunk being written when it rotated is done first).
      stream.on('rotated', () => (this.needHeader = true));
      this.stream = stream;
      this.needHeader = true;
      if (this.brokenAt !== null) this.brokenAt = this.now(); // "broken" until a write succeeds
    } catch (err) {
      this.broke(null, err as Error);
    }
  }

  private broke(stream: RotatingFileStream | null, err: Error): void {
    if (stream !== null && this.stream !== stream) return;
    this.stream = null;
    stream?.destroy();
    this.dropped += this.queue.length;
    this.queue = [];
    if (this.brokenAt === null)
      this.opts.log.warn(
        { code: 'MOM_W_RECORD_WRITE', record_dir: this.opts.dir, err: err.message },
        `cannot write the recording in ${this.opts.dir}: ${err.message}; recording paused, tried again every ${(this.opts.retryMs ?? RECORD_RETRY_MS) / 1000} s (momd goes on)`,
      );
    this.brokenAt = this.now();
  }
}

/**
 * Removes a last line without its newline from `file` (momd was killed while writing it), so
 * that lines appended now do not follow a broken one. Returns the bytes removed (0: none, or no
 * file).
 */
export function cutPartialLine(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const nl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}
