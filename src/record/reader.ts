// Reads a recording back (what `momctl replay` and the dashboard open): the cycles of every file in
// a record-dir, rotated (gzip) and current (plain), in the order they were written, each with the
// header in force for it. A last line cut short (momd killed mid-write) is skipped with one
// warning; any other line that is not a valid header or cycle is an error naming FILE:LINE.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MomError } from '../errors.js';
import { CURRENT_FILE, recordingFiles } from './files.js';
import { checkLine, type RecordedCycle, type RecordHeader } from './format.js';

export type {
  RecordedCycle,
  RecordedEntity,
  RecordedGuest,
  RecordedOutcome,
  RecordHeader,
} from './format.js';

/** One recorded cycle, with the header in force for it and where it was read. */
export interface RecordEntry {
  readonly header: RecordHeader;
  readonly cycle: RecordedCycle;
  /** The file it was read from, and its line there (from 1). */
  readonly file: string;
  readonly line: number;
}

export interface ReadOptions {
  /** Only cycles at or after this wall-clock time. */
  readonly from?: Date;
  /** Only cycles at or before this wall-clock time. */
  readonly to?: Date;
  /** Told of a line skipped because it was cut short; by default nothing is said. */
  readonly onWarning?: (warning: RecordingWarning) => void;
}

export interface RecordingWarning {
  readonly code: 'MOM_W_RECORD_TRUNCATED';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** A recording that cannot be read: a missing folder, no recording in it, a malformed line. */
export class RecordingError extends MomError {
  constructor(message: string) {
    super('MOM_E_RECORDING', message);
    this.name = 'RecordingError';
  }
}

/**
 * The recorded cycles in `dir` in the order they were written (rotated files by name, then the
 * current file), restricted to [from, to] when given. Throws RecordingError when the folder
 * cannot be read or holds no recording, and when a line other than a file's cut-short last line
 * is malformed (the message names FILE:LINE and the field).
 */
export async function* readRecording(dir: string, opts: ReadOptions = {}): AsyncGenerator<RecordEntry> {
  let files: string[];
  try {
    files = recordingFiles(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RecordingError(
      `${dir}: cannot read the recording folder: ${code === 'ENOENT' ? 'no such folder' : (code ?? String(err))}`,
    );
  }
  if (files.length === 0)
    throw new RecordingError(`${dir}: holds no recording (no ${CURRENT_FILE}, no cycles-*.jsonl.gz)`);
  const from = opts.from?.getTime() ?? -Infinity;
  const to = opts.to?.getTime() ?? Infinity;
  let header: RecordHeader | null = null;
  for (const file of files) {
    for await (const { line, value } of fileLines(file, opts.onWarning)) {
      if (value.kind === 'header') {
        header = value;
        continue;
      }
      if (header === null) throw new RecordingError(`${file}:${line}: a cycle line before any header line`);
      const t = Date.parse(value.time);
      if (Number.isNaN(t)) throw new RecordingError(`${file}:${line}: time: not a date: '${value.time}'`);
      if (t < from || t > to) continue;
      yield { header, cycle: value, file, line };
    }
  }
}

/** The valid lines of one file, numbered from 1. */
async function* fileLines(
  file: string,
  onWarning: ReadOptions['onWarning'],
): AsyncGenerator<{ line: number; value: RecordHeader | RecordedCycle }> {
  const input = createReadStream(file);
  let source: Readable = input;
  if (file.endsWith('.gz')) {
    const gunzip = createGunzip();
    input.on('error', (err) => gunzip.destroy(err));
    source = input.pipe(gunzip);
  }
  source.setEncoding('utf8');
  let rest = '';
  let line = 0;
  let cutShort = false;
  try {
    for await (const chunk of source as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const text of parts) {
        line++;
        const value = parse(file, line, text, true, onWarning);
        if (value !== null) yield { line, value };
      }
    }
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    const e = err as NodeJS.ErrnoException;
    // A gzip file cut short: momd was stopped while it compressed it; what was read stands.
    if (e.code !== 'Z_BUF_ERROR') throw new RecordingError(`${file}: cannot read: ${e.code ?? e.message}`);
    cutShort = true;
    onWarning?.({
      code: 'MOM_W_RECORD_TRUNCATED',
      file,
      line: line + 1,
      message: `${file}: the compressed file is cut short after line ${line}; the rest of it is lost`,
    });
  } finally {
    source.destroy();
    input.destroy();
  }
  if (rest !== '' && !cutShort) {
    const value = parse(file, line + 1, rest, false, onWarning);
    if (value !== null) yield { line: line + 1, value };
  }
}

/**
 * One line checked; null for a blank line and for a last line cut short (`ended` false: no
 * newline after it) that does not parse, which is warned about.
 */
function parse(
  file: string,
  line: number,
  text: string,
  ended: boolean,
  onWarning: ReadOptions['onWarning'],
): RecordHeader | RecordedCycle | null {
  if (text.trim() === '') return null;
  const cut = (): null => {
    onWarning?.({
      code: 'MOM_W_RECORD_TRUNCATED',
      file,
      line,
      message: `${file}:${line}: the last line is cut short (momd stopped while writing it); skipped`,
    });
    return null;
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (!ended) return cut();
    throw new RecordingError(`${file}:${line}: not a JSON line: ${(err as Error).message}`);
  }
  const checked = checkLine(json);
  if (checked.ok) return checked.line;
  if (!ended) return cut();
  throw new RecordingError(`${file}:${line}: ${checked.problem}`);
}
