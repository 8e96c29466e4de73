// A reader for the INI dialect of MOM's mom.conf: the rules of Python's configparser.ConfigParser
// with its default options, which is what MOM reads its configuration with.
//
// Decision: this parser is written by hand rather than taken from npm. It is small, and no npm INI
// library both follows ConfigParser's rules (":" or "=" delimiters, indented continuation lines,
// full-line "#"/";" comments, case-insensitive keys, a [DEFAULT] section, "%(name)s" interpolation)
// and reports the line and column of what it read, which every configuration error must name.
//
// The rules, as ConfigParser applies them:
// - "[name]" starts a section; section names are case-sensitive, "[DEFAULT]" is the defaults section.
// - "key: value" or "key = value": the first ":" or "=" splits; key and value are stripped; keys are
//   lower-cased. "key:" gives the empty value.
// - A line whose first non-blank character is "#" or ";" is a comment, wherever it is. There are no
//   comments at the end of a line: "a: 1 # one" has the value "1 # one".
// - A line indented deeper than its key's line continues the value; the parts are joined with "\n".
//   Blank lines inside a value are kept, trailing ones are dropped; comment lines are skipped.
// Departures, all on input ConfigParser rejects or misreads: every problem is collected instead of
// stopping at the first; a repeated section is merged with a warning (ConfigParser: an error); text
// after "]" that is not a comment is ignored with a warning (ConfigParser: ignored silently).

/** One `key: value` line (and its continuation lines). */
export interface IniEntry {
  /** The key, lower-cased. */
  readonly key: string;
  /** The value, stripped; continuation lines joined with "\n". Not yet interpolated. */
  readonly value: string;
  /** 1-based line and column of the key. */
  readonly line: number;
  readonly col: number;
}

export interface IniSection {
  readonly name: string;
  /** 1-based line and column of the section's first header. */
  readonly line: number;
  readonly col: number;
  /** Keys in order of appearance. */
  readonly entries: Map<string, IniEntry>;
}

export interface IniProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface IniDocument {
  /** The [DEFAULT] section, or null when the text has none. */
  readonly defaults: IniSection | null;
  /** Every other section, in order of first appearance. */
  readonly sections: Map<string, IniSection>;
  /** Malformed lines; the rest of the text is still read. */
  readonly errors: IniProblem[];
  readonly warnings: IniProblem[];
}

export const DEFAULT_SECTION = 'DEFAULT';

/** `FILE:LINE:COL: MESSAGE`. */
export function formatIniProblem(file: string, p: IniProblem): string {
  return `${file}:${p.line}:${p.col}: ${p.message}`;
}

/** Quotes a piece of input for a message, on one line. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}'`;
}

export function parseIni(text: string): IniDocument {
  let defaults: IniSection | null = null;
  const sections = new Map<string, IniSection>();
  const errors: IniProblem[] = [];
  const warnings: IniProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);

  let section: IniSection | null = null;
  // After a header we could not read, the keys that follow belong to no known section: skip them
  // quietly rather than report each one.
  let lostSection = false;
  let open: { section: IniSection; key: string; line: number; col: number; parts: string[] } | null = null;
  let indentLevel = 0;

  const close = (): void => {
    if (open === null) return;
    const value = open.parts.join('\n').trimEnd();
    open.section.entries.set(open.key, { key: open.key, value, line: open.line, col: open.col });
    open = null;
  };

  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const stripped = raw.trim();
    if (stripped === '' || stripped.startsWith('#') || stripped.startsWith(';')) {
      // A blank line may sit inside a multi-line value; a comment line never becomes part of one.
      if (stripped === '' && open !== null) open.parts.push('');
      continue;
    }
    const indent = raw.length - raw.trimStart().length;
    if (open !== null && indent > indentLevel) {
      open.parts.push(stripped);
      continue;
    }
    close();
    indentLevel = indent;
    const col = indent + 1;

    if (stripped.startsWith('[')) {
      const end = stripped.indexOf(']');
      if (end < 0) {
        errors.push({ line, col, message: `unclosed '[' in section header ${quote(stripped)}` });
        section = null;
        lostSection = true;
        continue;
      }
      const name = stripped.slice(1, end).trim();
      if (name === '') {
        errors.push({ line, col, message: 'empty section name' });
        section = null;
        lostSection = true;
        continue;
      }
      const rest = stripped.slice(end + 1).trim();
      if (rest !== '' && !rest.startsWith('#') && !rest.startsWith(';')) {
        const restCol = col + stripped.indexOf(rest, end + 1);
        warnings.push({ line, col: restCol, message: `text after section header [${name}] ignored` });
      }
      lostSection = false;
      const existing = name === DEFAULT_SECTION ? defaults : sections.get(name);
      if (existing) {
        warnings.push({
          line,
          col,
          message: `section [${name}] appears again (first on line ${existing.line}); its keys are merged`,
        });
        section = existing;
        continue;
      }
      section = { name, line, col, entries: new Map() };
      if (name === DEFAULT_SECTION) defaults = section;
      else sections.set(name, section);
      continue;
    }

    const delim = /[:=]/.exec(stripped);
    if (section === null) {
      if (!lostSection) {
        const what = delim
          ? `key ${quote(stripped.slice(0, delim.index).trim())}`
          : `line ${quote(stripped)}`;
        errors.push({ line, col, message: `${what} appears before any [section] header` });
      }
      continue;
    }
    if (delim === null) {
      errors.push({
        line,
        col,
        message: `malformed line ${quote(stripped)}: expected 'key: value', 'key = value' or a [section] header`,
      });
      continue;
    }
    const key = stripped.slice(0, delim.index).trim().toLowerCase();
    if (key === '') {
      errors.push({ line, col, message: `missing key before '${delim[0]}'` });
      continue;
    }
    const first = section.entries.get(key);
    if (first) {
      errors.push({
        line,
        col,
        message: `duplicate key '${key}' in [${section.name}] (first set on line ${first.line})`,
      });
      continue;
    }
    open = { section, key, line, col, parts: [stripped.slice(delim.index + 1).trim()] };
  }
  close();
  return { defaults, sections, errors, warnings };
}

/** ConfigParser's limit on nested `%(name)s` references. */
const MAX_INTERPOLATION_DEPTH = 10;

export type InterpolationResult = { ok: true; value: string } | { ok: false; error: string };

/**
 * ConfigParser's BasicInterpolation: `%%` is a literal `%`, `%(name)s` is the value of key `name`
 * (looked up through `lookup`, itself interpolated), any other `%` is an error.
 * `onReference` is told of every key a reference resolves.
 */
export function interpolate(
  value: string,
  lookup: (key: string) => string | undefined,
  onReference: (key: string) => void = () => {},
): InterpolationResult {
  const out: string[] = [];
  const walk = (text: string, depth: number): string | null => {
    if (depth > MAX_INTERPOLATION_DEPTH) return 'interpolation nested too deeply (a reference loop?)';
    let rest = text;
    while (rest !== '') {
      const p = rest.indexOf('%');
      if (p < 0) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, p));
      rest = rest.slice(p);
      const c = rest.charAt(1);
      if (c === '%') {
        out.push('%');
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = /^%\(([^)]+)\)s/.exec(rest);
        if (m === null) return `bad interpolation reference ${quote(rest)}: expected '%(name)s'`;
        const name = (m[1] ?? '').toLowerCase();
        rest = rest.slice(m[0].length);
        const v = lookup(name);
        if (v === undefined) return `interpolation refers to unknown key '${name}'`;
        onReference(name);
        const err = walk(v, depth + 1);
        if (err !== null) return err;
      } else {
        return "'%' must be followed by '%' or '(' (write '%%' for a literal '%')";
      }
    }
    return null;
  };
  const error = walk(value, 1);
  return error === null ? { ok: true, value: out.join('') } : { ok: false, error };
}
