// The only place the Linux host reader touches the file system: reads of /proc, sysfs and cgroupfs
// files and writes of single values, with errors that name the file. Collectors read files only;
// nothing here runs a command.
import { constants } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { MomError } from '../../errors.js';

/** A file exists but its text is not what the kernel documents. Fails this reading only. */
export class CollectionError extends MomError {
  constructor(
    readonly path: string,
    /** The offending text (a line or a value), or null when the file could not be read at all. */
    readonly text: string | null,
    message: string,
  ) {
    super(
      'MOM_E_HOST_READ',
      `${path}: ${message}${text === null ? '' : ` (read ${JSON.stringify(truncate(text))})`}`,
    );
    this.name = 'CollectionError';
  }
}

/** The file (or its directory) is absent: the feature is not in this kernel or is switched off. */
export class NotAvailable extends MomError {
  constructor(
    readonly path: string,
    /** What to do about it, e.g. 'PSI off: boot with psi=1'. */
    readonly hint: string,
  ) {
    super('MOM_E_NOT_AVAILABLE', `${path} does not exist: ${hint}`);
    this.name = 'NotAvailable';
  }
}

/** A process named by pid exited (its /proc directory is gone). */
export class ProcessGone extends MomError {
  constructor(readonly pid: number) {
    super('MOM_E_PROCESS_GONE', `process ${pid} is gone`);
    this.name = 'ProcessGone';
  }
}

/** The kernel refused a write; `code` is the errno name (EBUSY, EINVAL, EACCES, ...). */
export class KernelWriteError extends MomError {
  constructor(
    readonly path: string,
    readonly value: string,
    /** The errno name (EBUSY, EINVAL, EACCES, ...). */
    readonly errno: string,
    message: string,
  ) {
    super('MOM_E_KERNEL_WRITE', message);
    this.name = 'KernelWriteError';
  }
}

export interface ReadOptions {
  /** The hint of the NotAvailable thrown when the file is missing. */
  readonly hint?: string;
  readonly signal?: AbortSignal;
}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** The file's text. Missing (ENOENT, ENOTDIR) → NotAvailable; other failures → CollectionError. */
export async function readText(path: string, opts: ReadOptions = {}): Promise<string> {
  try {
    return await readFile(path, { encoding: 'utf8', signal: opts.signal });
  } catch (err) {
    throw readFailure(path, err, opts.hint);
  }
}

/** Names in a directory; a missing directory → NotAvailable. */
export async function listDirectory(path: string, opts: ReadOptions = {}): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    throw readFailure(path, err, opts.hint);
  }
}

function readFailure(path: string, err: unknown, hint: string | undefined): Error {
  const code = errnoCode(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new NotAvailable(path, hint ?? 'no such file');
  // A kernel built with PSI but booted with psi=0 answers EOPNOTSUPP on the cgroup pressure files.
  if (code === 'EOPNOTSUPP') return new NotAvailable(path, hint ?? 'not supported by this kernel');
  if (err instanceof Error && err.name === 'AbortError') return err;
  return new CollectionError(path, null, `cannot read: ${err instanceof Error ? err.message : String(err)}`);
}

/** Parses a kernel integer (decimal, optional sign); anything else → CollectionError naming path and text. */
export function parseKernelInt(text: string, path: string, what = 'an integer'): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw new CollectionError(path, text, `expected ${what}`);
  return Number(t);
}

/** A file holding one integer, as most sysfs and cgroup files do. */
export async function readKernelInt(path: string, opts: ReadOptions = {}): Promise<number> {
  return parseKernelInt(await readText(path, opts), path);
}

/**
 * A file holding one byte count that may exceed 2^53 (cgroup v1's "no limit" is 2^63 - 4096), or
 * the word 'max' (cgroup v2's "no limit"), which is returned as null.
 */
export async function readKernelBytes(path: string, opts: ReadOptions = {}): Promise<bigint | null> {
  const text = await readText(path, opts);
  const t = text.trim();
  if (t === 'max') return null;
  if (!/^-?\d+$/.test(t)) throw new CollectionError(path, text, "expected a byte count or 'max'");
  return BigInt(t);
}

/**
 * The lines of a "key value" file: `MemTotal:  123 kB` (meminfo, status), `pswpin 12` (vmstat,
 * memory.stat), `some avg10=0.00 ...` (PSI). The key ends at the first ':' or blank.
 */
export class KeyValues {
  constructor(
    readonly path: string,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  has(key: string): boolean {
    return this.values.has(key);
  }

  keys(): IterableIterator<string> {
    return this.values.keys();
  }

  /** The raw text after the key; a missing key → CollectionError. */
  text(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) throw new CollectionError(this.path, null, `no '${key}' line`);
    return v;
  }

  /**
   * The integer after the key. With `unit`, the value must carry that suffix (meminfo's 'kB');
   * without it, any suffix is an error. A missing key → CollectionError.
   */
  int(key: string, unit?: string): number {
    const raw = this.text(key);
    let t = raw.trim();
    if (unit !== undefined) {
      if (!t.endsWith(` ${unit}`)) {
        throw new CollectionError(this.path, `${key} ${raw}`, `expected '${key}' in ${unit}`);
      }
      t = t.slice(0, -unit.length).trim();
    }
    if (!/^-?\d+$/.test(t)) throw new CollectionError(this.path, `${key} ${raw}`, `expected an integer`);
    return Number(t);
  }

  /** As int(), but null when the key is absent (a field older kernels do not have). */
  optionalInt(key: string, unit?: string): number | null {
    return this.values.has(key) ? this.int(key, unit) : null;
  }
}

/** Parses "key value" text; a line with no value → CollectionError naming the line. */
export function parseKeyValues(text: string, path: string): KeyValues {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // 'Key: value' (the value may be empty, as status's 'Groups:') or 'key value'.
    const m = /^\s*([^\s:]+):\s*(.*)$/.exec(line) ?? /^\s*([^\s:]+)\s+(\S.*)$/.exec(line);
    if (m === null) throw new CollectionError(path, line, 'expected "key value" on every line');
    const [, key = '', value = ''] = m;
    if (!values.has(key)) values.set(key, value.trimEnd());
  }
  return new KeyValues(path, values);
}

export async function readKeyValueFile(path: string, opts: ReadOptions = {}): Promise<KeyValues> {
  return parseKeyValues(await readText(path, opts), path);
}

/**
 * Writes one value, as `echo value > path` would (a single write). The kernel's refusal becomes a
 * KernelWriteError whose message names the file, the value and the errno; `explain` may give a
 * clearer message for a given errno (e.g. EBUSY on merge_across_nodes).
 */
export async function writeKernelValue(
  path: string,
  value: string | number,
  opts: { signal?: AbortSignal; hint?: string; explain?: (code: string) => string | undefined } = {},
): Promise<void> {
  const text = String(value);
  opts.signal?.throwIfAborted();
  try {
    // No O_CREAT: a sysfs or cgroup file must exist already, and creating one would hide a typo.
    // O_TRUNC is ignored by sysfs and cgroupfs but keeps a fixture copy's regular file exact.
    await writeFile(path, text, { flag: constants.O_WRONLY | constants.O_TRUNC, signal: opts.signal });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotAvailable(path, opts.hint ?? 'no such file');
    if (err instanceof Error && err.name === 'AbortError') throw err;
    const errno = code ?? 'EIO';
    const why =
      opts.explain?.(errno) ??
      (errno === 'EACCES' || errno === 'EPERM'
        ? 'permission denied (momd must run as root to change this)'
        : errno === 'EINVAL'
          ? 'the kernel rejected the value as invalid'
          : err instanceof Error
            ? err.message
            : String(err));
    throw new KernelWriteError(path, text, errno, `cannot write ${text} to ${path}: ${why} (${errno})`);
  }
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
