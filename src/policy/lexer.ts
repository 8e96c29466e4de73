// Stage 1 of loading a policy: source text → tokens. Follows MOM's token rules
// (docs/policy-language.md) but, unlike MOM, reports a character no token matches instead of
// silently dropping the rest of the input.
import { OPERATOR_NAMES, type Operator, type Span } from './ast.js';
import { PolicyError } from './diagnostics.js';

export type Token =
  | { readonly kind: 'open'; readonly text: '(' | '[' | '{'; readonly span: Span }
  | { readonly kind: 'close'; readonly text: ')' | ']' | '}'; readonly span: Span }
  | { readonly kind: 'int'; readonly value: bigint; readonly span: Span }
  | { readonly kind: 'float'; readonly value: number; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'symbol'; readonly name: string; readonly span: Span }
  | { readonly kind: 'operator'; readonly op: Operator; readonly span: Span };

export interface LexResult {
  readonly tokens: Token[];
  readonly errors: PolicyError[];
}

const WHITESPACE = /\s/;
const SYMBOL_START = /[A-Za-z_]/;
const SYMBOL_REST = /[A-Za-z0-9_.-]/;
// Longest operators first so that `<<` is not read as two `<`.
const OPERATORS = (Object.keys(OPERATOR_NAMES) as Operator[]).sort((a, b) => b.length - a.length);

/**
 * Splits one policy file into tokens. Every character no token matches, malformed number and
 * unterminated string is an error, and lexing goes on after it, so that every one is reported.
 */
export function lex(source: string, file: string): LexResult {
  const tokens: Token[] = [];
  const errors: PolicyError[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const spanOf = (start: number, startLine: number, startCol: number): Span => ({
    file,
    line: startLine,
    col: startCol,
    endLine: line,
    endCol: pos - lineStart + 1,
  });
  const advance = (n: number): void => {
    for (let i = 0; i < n; i++) {
      if (source[pos] === '\n') {
        line++;
        lineStart = pos + 1;
      }
      pos++;
    }
  };

  while (pos < source.length) {
    const ch = source[pos] as string;
    const startLine = line;
    const startCol = pos - lineStart + 1;
    const start = pos;
    const here = (): Span => spanOf(start, startLine, startCol);

    // Any Unicode whitespace, as MOM's Python `\s` reads it.
    if (WHITESPACE.test(ch)) {
      advance(1);
      continue;
    }
    if (ch === '#') {
      while (pos < source.length && source[pos] !== '\n') pos++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') {
      advance(1);
      tokens.push({ kind: 'open', text: ch, span: here() });
      continue;
    }
    if (ch === ')' || ch === ']' || ch === '}') {
      advance(1);
      tokens.push({ kind: 'close', text: ch, span: here() });
      continue;
    }
    if (ch === '"' || ch === "'") {
      const value = readString(ch);
      if (value === undefined) {
        errors.push(new PolicyError('MOM_E_POLICY_LEX', `Unterminated string starting with ${ch}.`, here()));
      } else if (typeof value === 'object') {
        errors.push(new PolicyError('MOM_E_POLICY_LEX', value.message, value.span));
      } else {
        tokens.push({ kind: 'string', value, span: here() });
      }
      continue;
    }
    if (SYMBOL_START.test(ch)) {
      advance(1);
      while (pos < source.length && SYMBOL_REST.test(source[pos] as string)) advance(1);
      tokens.push({ kind: 'symbol', name: source.slice(start, pos), span: here() });
      continue;
    }
    const number = readNumber();
    if (number !== undefined) {
      if (typeof number === 'string') {
        // Skip the rest of the bad token (`0xZZ`, `5.x`) so that lexing resumes after it.
        while (pos < source.length && SYMBOL_REST.test(source[pos] as string)) advance(1);
        errors.push(new PolicyError('MOM_E_POLICY_LEX', number, here()));
      } else if (typeof number === 'bigint') {
        tokens.push({ kind: 'int', value: number, span: here() });
      } else {
        tokens.push({ kind: 'float', value: number, span: here() });
      }
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, pos));
    if (op !== undefined) {
      advance(op.length);
      tokens.push({ kind: 'operator', op, span: here() });
      continue;
    }
    advance(1);
    errors.push(new PolicyError('MOM_E_POLICY_LEX', `Unexpected character ${describeChar(ch)}.`, here()));
  }
  return { tokens, errors };

  /**
   * Reads a quoted string; a backslash only stops the next character from ending it (no escapes).
   * A backslash before a line break matches no MOM token, so it is an error here.
   */
  function readString(quote: string): string | { message: string; span: Span } | undefined {
    let i = pos + 1;
    while (i < source.length) {
      const c = source[i];
      if (c === '\\' && (source[i + 1] === '\n' || source[i + 1] === '\r')) {
        const before = source.slice(0, i);
        const bLine = line + (before.slice(pos).match(/\n/g)?.length ?? 0);
        const bCol = i - (before.lastIndexOf('\n') + 1) + 1;
        const span = { file, line: bLine, col: bCol, endLine: bLine, endCol: bCol + 1 };
        // Skip to the string's end so that lexing can go on after it.
        let j = i + 1;
        while (j < source.length && source[j] !== quote) j += source[j] === '\\' ? 2 : 1;
        advance(Math.min(j + 1, source.length) - pos);
        return { message: 'A backslash cannot end a line inside a string.', span };
      }
      if (c === '\\') i += 2;
      else if (c === quote) {
        const value = source.slice(pos + 1, i);
        advance(i + 1 - pos);
        return value;
      } else i++;
    }
    // Unterminated. The string may have been meant to span lines, but a forgotten closing quote
    // is far likelier: lexing resumes at the end of the line it opened on, so the errors of the
    // rest of the file are found too.
    const eol = source.indexOf('\n', pos);
    advance((eol < 0 ? source.length : eol) - pos);
    return undefined;
  }

  /**
   * A number literal at pos, or undefined when none starts here. Returns a message string for a
   * malformed literal (which MOM would silently truncate the policy at).
   */
  function readNumber(): bigint | number | string | undefined {
    const rest = source.slice(pos, pos + 400);
    // MOM lets the minus sign belong to decimal literals only: `-0x10` is `-` then 16.
    if (/^-0[xX][0-9A-Fa-f]/.test(rest)) return undefined;
    const hex = /^0[xX][0-9A-Fa-f]+/.exec(rest);
    if (hex) {
      advance(hex[0].length);
      return BigInt(hex[0].toLowerCase());
    }
    const octal = /^0o[0-7]+/.exec(rest);
    if (octal) {
      advance(octal[0].length);
      return BigInt(octal[0]);
    }
    // Decimal: optional minus (part of the literal), integer part, optional fraction and exponent.
    const dec = /^-?([0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]*)?/.exec(rest);
    if (!dec) return undefined;
    const [text, intPart = '', frac, exp] = dec;
    if (intPart === '' && (frac === undefined || frac.length < 2)) return undefined; // `-`, `.`: not a number
    advance(text.length);
    // MOM's float pattern allows leading zeros (`00.5`); its integer pattern does not (`007`).
    if (intPart.length > 1 && intPart.startsWith('0') && frac === undefined) {
      return `Malformed number '${text}': leading zeros are not allowed (use 0o for octal).`;
    }
    if (frac === undefined && exp === undefined && /^-?0[xX]/.test(rest)) {
      return `Malformed number '${rest.slice(0, text.length + 1)}': hex digits must follow 0x.`;
    }
    if (frac === '.') return `Malformed number '${text}': a decimal point must be followed by digits.`;
    if (exp !== undefined && !/[0-9]$/.test(exp)) return `Malformed number '${text}': incomplete exponent.`;
    if (frac === undefined && exp === undefined) return BigInt(text);
    return Number(text);
  }
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  // Printable ASCII is shown as itself; anything else also by code point, as it may look like a space.
  if (code > 0x20 && code < 0x7f) return `'${ch}'`;
  if (code < 0x20 || code === 0x7f) return hex;
  return `'${ch}' (${hex})`;
}
