// The daemon's logger: pino, as JSON lines (for log files and journald), or pretty one-liners on
// a terminal so that `npm start` is pleasant to watch. A log file is rotated MOM's way when
// [logging] max-bytes and backup-count say so (log-file.ts).
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { ResilientLogFile, rotatingLogFile } from './log-file.js';

export type LogFormat = 'json' | 'pretty';
const LEVELS = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', critical: 'fatal' } as const;

export interface LoggerOptions {
  verbosity: keyof typeof LEVELS;
  destination: 'stdio' | string;
  format: LogFormat;
  /** For a log file: rotate at this size (bytes); 0 or absent never rotates. */
  maxBytes?: number;
  /** For a log file: rotated files kept; 0 or absent never rotates. */
  backupCount?: number;
}

export function createLogger(opts: LoggerOptions): Logger {
  return openLogger(opts).log;
}

/** The logger and how to close its file (a rotated log file is written asynchronously). */
export function openLogger(opts: LoggerOptions): { log: Logger; close(): Promise<void> } {
  const level = LEVELS[opts.verbosity];
  const fd = opts.destination === 'stdio' ? 1 : undefined;
  const path = opts.destination;
  // A log file is written through ResilientLogFile: a full disk drops lines, never stops momd.
  const file =
    fd === undefined
      ? new ResilientLogFile(
          path,
          () =>
            rotatingLogFile(path, { maxBytes: opts.maxBytes ?? 0, backupCount: opts.backupCount ?? 0 }) ??
            createWriteStream(path, { flags: 'a' }),
          (message) => void process.stderr.write(`${message}\n`),
        )
      : null;
  const close = (): Promise<void> =>
    file === null ? Promise.resolve() : new Promise<void>((resolve) => file.end(() => resolve()));
  if (opts.format === 'pretty') {
    // Loaded only for a terminal: a service logging JSON does not carry its code.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    const log = pino(
      { level },
      pretty({
        colorize: fd === 1 && process.stdout.isTTY === true,
        destination: file ?? fd ?? 1,
        sync: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss',
        // The message already says what happened; the structured fields stay in the JSON format.
        hideObject: true,
      }),
    );
    return { log, close };
  }
  const destination: DestinationStream = file ?? pino.destination({ dest: fd ?? 1, sync: true });
  return { log: pino({ level, base: undefined }, destination), close };
}

/** Changes what the logger lets through, at run time (momctl verbosity). */
export function setLogVerbosity(log: Logger, verbosity: keyof typeof LEVELS): void {
  log.level = LEVELS[verbosity];
}
