// Stage 2 of loading a policy: tokens → AST. One function per grammar rule:
//   program := value*        value := atom | list        list := '(' value* ')' | '[' value* ']' | '{' value* '}'
// A `{ ... }` block becomes `(eval ...)`, as in MOM. After an error the parser resumes and keeps
// collecting, so `momctl policy check` reports every syntax error at once.
import { makeSymbolParts, OPERATOR_NAMES, type List, type Node, type Span } from './ast.js';
import { PolicyError } from './diagnostics.js';
import type { Token } from './lexer.js';

export interface ParseResult {
  readonly forms: Node[];
  readonly errors: PolicyError[];
}

const CLOSER = { '(': ')', '[': ']', '{': '}' } as const;
/** Lists nested deeper than this are refused rather than risking the process stack. */
export const MAX_NESTING = 1000;

class TooDeep extends Error {
  constructor(readonly span: Span) {
    super('too deep');
  }
}

/** Parses a token stream (possibly the concatenation of several files' tokens) into top-level forms. */
export function parse(tokens: readonly Token[]): ParseResult {
  const errors: PolicyError[] = [];
  let pos = 0;
  const forms: Node[] = [];
  let depth = 0;
  /** The closer each list being parsed waits for, outermost first. */
  const waiting: string[] = [];
  try {
    parseForms();
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    errors.push(
      new PolicyError(
        'MOM_E_POLICY_SYNTAX',
        `Lists are nested more than ${MAX_NESTING} deep here.`,
        err.span,
      ),
    );
  }
  return { forms, errors };

  function parseForms(): void {
    while (pos < tokens.length) {
      const tok = tokens[pos] as Token;
      if (tok.kind === 'close') {
        errors.push(
          new PolicyError('MOM_E_POLICY_SYNTAX', `Unexpected '${tok.text}' with no list open.`, tok.span),
        );
        pos++;
        continue;
      }
      forms.push(parseValue());
    }
  }

  function parseValue(): Node {
    const tok = tokens[pos++] as Token;
    switch (tok.kind) {
      case 'open':
        return parseList(tok.text, tok.span);
      case 'int':
      case 'float':
      case 'string':
        return { kind: tok.kind, value: tok.value, span: tok.span } as Node;
      case 'symbol':
        return { kind: 'symbol', name: tok.name, ...makeSymbolParts(tok.name), span: tok.span };
      case 'operator':
        return { kind: 'operator', op: tok.op, name: OPERATOR_NAMES[tok.op], span: tok.span };
      case 'close':
        // parseList never hands a closer to parseValue; keep the switch total anyway.
        throw new Error('parser invariant: closer in value position');
    }
  }

  function parseList(open: '(' | '[' | '{', openSpan: Span): List {
    if (++depth > MAX_NESTING) throw new TooDeep(openSpan);
    const items: Node[] = [];
    if (open === '{') {
      items.push({ kind: 'symbol', name: 'eval', base: 'eval', attr: undefined, span: openSpan });
    }
    const expected = CLOSER[open];
    waiting.push(expected);
    for (;;) {
      const tok = tokens[pos];
      if (tok === undefined) {
        errors.push(
          new PolicyError(
            'MOM_E_POLICY_SYNTAX',
            `Expected '${expected}' to close the list opened at ${where(openSpan)}; the policy ended first.`,
            openSpan,
          ),
        );
        return finish(openSpan);
      }
      if (tok.kind === 'close') {
        if (tok.text === expected) {
          pos++;
          return finish(tok.span);
        }
        errors.push(
          new PolicyError(
            'MOM_E_POLICY_SYNTAX',
            `Expected '${expected}' to close the list opened at ${where(openSpan)}, found '${tok.text}'.`,
            tok.span,
          ),
        );
        // A closer that an enclosing list waits for most likely closes that one: this list is
        // the one left open, so it ends here and the closer is left to the enclosing list (no
        // cascade of errors down the file). Otherwise the closer is taken as this list's own.
        if (waiting.slice(0, -1).includes(tok.text)) return finish(tokens[pos - 1]?.span ?? openSpan);
        pos++;
        return finish(tok.span);
      }
      items.push(parseValue());
    }

    function finish(end: Span): List {
      depth--;
      waiting.pop();
      return {
        kind: 'list',
        open,
        items,
        args: items.slice(1),
        span: { ...openSpan, endLine: end.endLine, endCol: end.endCol },
      };
    }
  }
}

function where(span: Span): string {
  return `${span.file}:${span.line}:${span.col}`;
}
