// The value types of mom.conf: each parser turns the text of one value into a typed value, or says
// what was expected. Names of plugins are matched case-insensitively and returned in MOM's spelling.
import { isAbsolute, resolve } from 'node:path';

export type Parsed<T> = { ok: true; value: T; notes?: string[] } | { ok: false; expected: string };

export interface ValueContext {
  /** The directory relative paths are resolved against. */
  readonly baseDir: string;
}

export type ValueParser<T> = (text: string, ctx: ValueContext) => Parsed<T>;

const ok = <T>(value: T, notes?: string[]): Parsed<T> =>
  notes && notes.length > 0 ? { ok: true, value, notes } : { ok: true, value };
const bad = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** A positive, finite number (fractions allowed). */
export function positiveNumber(expected: string): ValueParser<number> {
  return (text) => {
    const n = DECIMAL.test(text) ? Number(text) : NaN;
    return Number.isFinite(n) && n > 0 ? ok(n) : bad(expected);
  };
}

export const seconds = positiveNumber('expected a positive number of seconds');

/** A number in [min, max] (fractions allowed). */
export function numberIn(min: number, max: number, expected: string): ValueParser<number> {
  return (text) => {
    const n = DECIMAL.test(text) ? Number(text) : NaN;
    return Number.isFinite(n) && n >= min && n <= max ? ok(n) : bad(expected);
  };
}

/** An integer in [min, max]. */
export function integer(min: number, max: number, expected: string): ValueParser<number> {
  return (text) => {
    const n = INTEGER.test(text) ? Number(text) : NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : bad(expected);
  };
}

/** Where MOM's XML-RPC server listens: a TCP port on 127.0.0.1, or a unix socket. */
export type RpcEndpoint =
  { readonly kind: 'tcp'; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/**
 * `rpc-port` as MOM reads it: an integer is a TCP port bound to localhost (negative: off); any
 * other text is the path of a unix socket (made absolute); empty is off. Off is null.
 */
export const rpcPort: ValueParser<RpcEndpoint | null> = (text, ctx) => {
  const t = text.trim();
  if (t === '') return ok(null);
  if (INTEGER.test(t)) {
    const n = Number(t);
    if (n < 0) return ok(null);
    return Number.isInteger(n) && n <= 65535
      ? ok({ kind: 'tcp', port: n })
      : bad('expected -1 (off), a port 0..65535 or a unix socket path');
  }
  if (t.includes('\n') || t.includes('\0'))
    return bad('expected -1 (off), a port 0..65535 or a unix socket path');
  return ok({ kind: 'unix', path: resolve(ctx.baseDir, t) });
};

/** A listening address for a server, or null when off. */
export interface ListenAddress {
  /** A host name, an IPv4 address, or an IPv6 address without its brackets. */
  readonly host: string;
  /** 0 lets the system choose a free port (the daemon logs the one it got). */
  readonly port: number;
}

const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/** `HOST:PORT` (IPv6 as `[::1]:9177`); empty is off (null). */
export const listenAddress: ValueParser<ListenAddress | null> = (text) => {
  const t = text.trim();
  if (t === '') return ok(null);
  const m = LISTEN.exec(t);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined || !Number.isInteger(port) || port > 65535)
    return bad('expected HOST:PORT such as 127.0.0.1:9177 or [::1]:9177 (port 0..65535), or empty for off');
  return ok({ host, port });
};

const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0'];

/** ConfigParser's booleans, case-insensitive. */
export const boolean: ValueParser<boolean> = (text) => {
  const t = text.toLowerCase();
  if (TRUE.includes(t)) return ok(true);
  if (FALSE.includes(t)) return ok(false);
  return bad('expected one of true, false, yes, no, on, off, 1, 0');
};

/** One of `choices` (case-insensitive); `aliases` maps other accepted spellings to a choice. */
export function oneOf<T extends string>(
  choices: readonly T[],
  aliases: Readonly<Record<string, T>> = {},
  hint = '',
): ValueParser<T> {
  return (text) => {
    const t = text.toLowerCase();
    const found = choices.find((c) => c.toLowerCase() === t) ?? aliases[t];
    return found !== undefined ? ok(found) : bad(`expected one of ${choices.join(', ')}${hint}`);
  };
}

/** Any single-line text, empty allowed. */
export const text: ValueParser<string> = (t) => (t.includes('\n') ? bad('expected a single line') : ok(t));

/** A path, made absolute against the config file's directory; empty is null. */
export const optionalPath: ValueParser<string | null> = (t, ctx) => {
  if (t.includes('\n')) return bad('expected a path on a single line');
  return ok(t === '' ? null : resolve(ctx.baseDir, t));
};

const BYTE_SIZE = /^(\d+)\s*([BKMG]?)$/i;

/** A size in bytes: an integer with an optional unit B, K, M or G (powers of 1024), at least 1 KiB. */
export const byteSize: ValueParser<number> = (t) => {
  const m = BYTE_SIZE.exec(t.trim());
  const units: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const n = m === null ? NaN : Number(m[1]) * (units[(m[2] ?? '').toUpperCase()] ?? NaN);
  return Number.isSafeInteger(n) && n >= 1024
    ? ok(n)
    : bad('expected a size of at least 1K: bytes, or a number followed by K, M or G (64M)');
};

/** An age at which a file is rotated, as rotating-file-stream takes it: days, or hours dividing a day. */
export type RotateInterval = `${number}d` | `${1 | 2 | 3 | 4 | 6 | 8 | 12}h`;

export const rotateInterval: ValueParser<RotateInterval | null> = (t) => {
  const v = t.trim().toLowerCase();
  if (v === '') return ok(null);
  const days = /^([1-9]\d{0,2})d$/.exec(v);
  if (days !== null) return ok<RotateInterval | null>(`${Number(days[1])}d`);
  const hours = /^(1|2|3|4|6|8|12)h$/.exec(v);
  if (hours !== null) return ok<RotateInterval | null>(`${Number(hours[1]) as 1 | 2 | 3 | 4 | 6 | 8 | 12}h`);
  return bad('expected days (1d, 7d) or hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h), or empty');
};

/** `stdio` (any case) or a log file path, made absolute. */
export const logTarget: ValueParser<string> = (t, ctx) => {
  if (t === '' || t.includes('\n')) return bad("expected 'stdio' or a file path");
  return ok(t.toLowerCase() === 'stdio' ? 'stdio' : resolve(ctx.baseDir, t));
};

/** A libvirt connection URI; empty means the system default, qemu:///system. */
export const libvirtUri: ValueParser<string> = (t) => {
  if (t === '') return ok('qemu:///system');
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/.test(t)
    ? ok(t)
    : bad('expected a libvirt URI such as qemu:///system');
};

/**
 * A simulator scenario: a bare name (`small`) is kept as is; anything that looks like a file (it
 * contains a slash or ends in .json, .yaml or .yml) is a path, made absolute. A consumer can tell
 * them apart with `path.isAbsolute`.
 */
export const scenario: ValueParser<string> = (t, ctx) => {
  if (t === '' || t.includes('\n')) return bad('expected a scenario name or a file path');
  const isPath = t.includes('/') || t.includes('\\') || /\.(json|ya?ml)$/i.test(t) || isAbsolute(t);
  return ok(isPath ? resolve(ctx.baseDir, t) : t);
};

/**
 * How a list accepts one name: used (with `with`, the names it brings along, silently), ignored
 * with a note, read as another name with a note, or refused (the value is invalid).
 */
export type ListEntryRule<T extends string> =
  | { kind: 'use'; name: T; with?: readonly T[] }
  | { kind: 'ignore'; why: string }
  | { kind: 'alias'; name: T; why: string }
  | { kind: 'refuse'; why: string };

/**
 * A comma-separated list of plugin names (newlines separate too; empty entries are skipped, as in
 * MOM). `rules` maps each accepted name, in MOM's spelling, to what we do with it. Ignored names are
 * dropped with a note, a refused one makes the value invalid; a name listed twice is kept once.
 */
export function nameList<T extends string>(
  what: string,
  rules: Readonly<Record<string, ListEntryRule<T>>>,
): ValueParser<T[]> {
  const known = Object.keys(rules);
  const accepted = known.filter((k) => rules[k]?.kind !== 'refuse');
  return (t) => {
    const out: T[] = [];
    const notes: string[] = [];
    for (const entry of t.split(/[,\n]/)) {
      const name = entry.trim();
      if (name === '') continue;
      const canonical = known.find((k) => k.toLowerCase() === name.toLowerCase());
      const rule = canonical === undefined ? undefined : rules[canonical];
      if (canonical === undefined || rule === undefined) {
        return bad(`unknown ${what} '${name}' (expected one of ${accepted.join(', ')})`);
      }
      if (rule.kind === 'refuse') return bad(`${what} '${canonical}' ${rule.why}`);
      let use: readonly T[] = [];
      if (rule.kind === 'use') use = [rule.name, ...(rule.with ?? [])];
      else if (rule.kind === 'alias') {
        use = [rule.name];
        notes.push(`'${canonical}' ${rule.why}`);
      } else notes.push(`'${canonical}' ${rule.why}`);
      for (const u of use) if (!out.includes(u)) out.push(u);
    }
    return ok(out, notes);
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?$/i;
const KIB_PER: Readonly<Record<string, number>> = { k: 1, m: 1024, g: 1024 ** 2, t: 1024 ** 3 };

/** A memory size with its unit (`512M`, `1.5GiB`, `262144K`), as whole KiB > 0. */
export const size: ValueParser<number> = (t) => {
  const m = SIZE.exec(t.trim());
  const per = m?.[2] === undefined ? undefined : KIB_PER[m[2].toLowerCase()];
  if (m === null || per === undefined)
    return bad('expected a size with a unit, such as 512M, 2G or 262144K (K, M, G, T: powers of 1024)');
  const kib = Math.floor(Number(m[1]) * per);
  return kib > 0 ? ok(kib) : bad('expected a size > 0');
};
