// The daemon's logger: pino, as JSON lines (for log files and journald), or pretty one-liners on
// a terminal so that `npm start` is pleasant to watch.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
const LEVELS = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', critical: 'fatal' } as const;

export function createLogger(opts: {
  verbosity: keyof typeof LEVELS;
  destination: 'stdio' | string;
  format: LogFormat;
}): Logger {
  const level = LEVELS[opts.verbosity];
  const fd = opts.destination === 'stdio' ? 1 : undefined;
  if (opts.format === 'pretty') {
    return pino(
      { level },
      pretty({
        colorize: fd === 1 && process.stdout.isTTY === true,
        destination: fd ?? opts.destination,
        sync: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss',
        // The message already says what happened; the structured fields stay in the JSON format.
        hideObject: true,
      }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ dest: fd ?? opts.destination, sync: true }));
}

/** Changes what the logger lets through, at run time (momctl verbosity). */
export function setLogVerbosity(log: Logger, verbosity: keyof typeof LEVELS): void {
  log.level = LEVELS[verbosity];
}
