// The policy language's front door: load (lex + parse, once) → check (static) → evaluate (each cycle).
import type { Program } from './ast.js';
import { checkProgram, PREDEFINED_GLOBALS } from './check.js';
import { formatDiagnostic, PolicyError } from './diagnostics.js';
import { evaluateProgram, type EvaluateOptions } from './evaluate.js';
import { lex, type Token } from './lexer.js';
import { lintProgram } from './lint.js';
import { parse } from './parser.js';
import type { Value } from './values.js';
import type { Vocabulary } from './vocabulary.js';

export { PolicyError, formatDiagnostic } from './diagnostics.js';
export { builtinGlobals, type DebugSink } from './builtins.js';
export type { Value } from './values.js';
export { ENTITY_METHODS, type ScopeFields, type Vocabulary } from './vocabulary.js';

/** One named policy text; a set is several, evaluated in the order given. */
export interface PolicySource {
  readonly file: string;
  readonly text: string;
}

/** A parsed, ready-to-evaluate policy set. Immutable; evaluate it as often as needed. */
export interface PolicySet {
  readonly program: Program;
}

export type LoadResult = { ok: true; set: PolicySet } | { ok: false; errors: PolicyError[] };

/**
 * Lexes each text on its own (so positions name their own file) and parses the joined token
 * stream, as MOM parses the texts joined by newlines. Any lexical or syntax error rejects the set.
 */
export function loadPolicySet(sources: readonly PolicySource[]): LoadResult {
  const tokens: Token[] = [];
  const errors: PolicyError[] = [];
  for (const { file, text } of sources) {
    const lexed = lex(text, file);
    tokens.push(...lexed.tokens);
    errors.push(...lexed.errors);
  }
  const parsed = parse(tokens);
  errors.push(...parsed.errors);
  if (errors.length > 0)
    return {
      ok: false,
      errors: sortByPosition(
        errors,
        sources.map((s) => s.file),
      ),
    };
  return {
    ok: true,
    set: {
      program: { forms: parsed.forms, files: sources.map((s) => s.file) },
    },
  };
}

/** Problems knowable without running the set: unknown functions, wrong arity, malformed forms. */
export function checkPolicySet(set: PolicySet, extraGlobals: readonly string[] = []): PolicyError[] {
  return checkProgram(set.program, [...PREDEFINED_GLOBALS, ...extraGlobals]);
}

/**
 * `momctl policy check`: the static checks above, plus the names judged against a configuration's
 * statistics and controls (lint.ts): variables never defined, entity methods, statistics and
 * controls misspelt or not configured. In file and position order.
 */
export function strictCheckPolicySet(
  set: PolicySet,
  vocabulary: Vocabulary,
  extraGlobals: readonly string[] = [],
): PolicyError[] {
  const problems = [
    ...checkProgram(set.program, [...PREDEFINED_GLOBALS, ...extraGlobals]),
    ...lintProgram(set.program, vocabulary, extraGlobals),
  ];
  return sortByPosition(problems, set.program.files);
}

/** Evaluates every top-level form once; throws PolicyError on the first error. */
export function evaluatePolicySet(set: PolicySet, options: EvaluateOptions): Value[] {
  return evaluateProgram(set.program, options);
}

export function formatErrors(errors: readonly PolicyError[]): string {
  return errors.map(formatDiagnostic).join('\n');
}

function sortByPosition(errors: PolicyError[], files: readonly string[]): PolicyError[] {
  const order = new Map(files.map((f, i) => [f, i]));
  return [...errors].sort(
    (a, b) =>
      (order.get(a.span.file) ?? 0) - (order.get(b.span.file) ?? 0) ||
      a.span.line - b.span.line ||
      a.span.col - b.span.col,
  );
}
