// Fuzzing of the policy language (issue 12): texts generated from its grammar and texts made by
// mutating the corpus (every .policy file of the repository), run through the lexer and parser,
// the static checks and the evaluator against a small snapshot. What must hold for every text:
// nothing throws but a PolicyError, every error names the file and a line and column inside the
// text, and no text takes over a second. Shared by test/fuzz/policy-fuzz.test.ts (10^4 texts, a
// fixed seed, in `npm test`) and bench/fuzz-policy.ts (10^6, for the long runs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PolicyEngine } from '../../src/engine/policy-engine.js';
import type { Snapshot } from '../../src/entities/snapshot.js';
import { checkPolicySet, loadPolicySet, PolicyError } from '../../src/policy/index.js';

export const FUZZ_FILE = 'fuzz.policy';
/** A text that takes longer than this, through every stage, is a failure (issue 12: no hang over 1 s). */
export const MAX_MS = 1000;

/** Every .policy file under the given folders, as corpus texts. */
export function corpusTexts(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.policy')) out.push(readFileSync(path, 'utf8'));
    }
  };
  for (const f of folders) walk(join(root, f));
  return out;
}

const NUMBERS = ['0', '1', '-1', '2.5', '0x1f', '007', '1e3', '-0.0', '9999999999999999999999', '1.', '.5'];
const STRINGS = ['"x"', '""', '"balloon_target"', '"mem_free"', '"name"', "'single'", '"a\\"b"'];
const SYMBOLS = ['x', 'y', 'f', 'nil', 'True', 'False', 'Host', 'Guests', 'g', 'abs', 'debug'];
const OPERATORS = ['+', '-', '*', '/', '%', '<', '>', '<=', '>=', '==', '!=', '<<', '>>', 'and', 'or', 'not'];
const ATTRIBUTES = [
  'Host.mem_free',
  'Host.mem_available',
  'g.balloon_cur',
  'g.balloon_max',
  'g.swap_in_rate',
  'g.nope',
];
const METHODS = [
  '(Host.Stat "mem_free")',
  '(g.StatAvg "mem_unused")',
  '(g.Prop "name")',
  '(g.GetVar "v")',
  '(Host.GetControl "ksm_run")',
];

/** Texts from the language's grammar: atoms, calls, special forms, entity access, comments. */
export function generatedText(): fc.Arbitrary<string> {
  const { expr } = fc.letrec<{ expr: string; atom: string; call: string; form: string }>((tie) => ({
    atom: fc.oneof(
      fc.constantFrom(...NUMBERS, ...STRINGS, ...SYMBOLS, ...ATTRIBUTES, ...METHODS),
      fc.integer({ min: -1000, max: 1000 }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    ),
    call: fc
      .tuple(
        fc.constantFrom(...OPERATORS, 'abs', 'debug', 'f', 'g.Control', 'Host.Control', 'g.SetVar', 'valid'),
        fc.array(tie('expr'), { maxLength: 4 }),
      )
      .map(([head, args]) => `(${[head, ...args].join(' ')})`),
    form: fc.oneof(
      fc.tuple(fc.constantFrom('x', 'y', 'f'), tie('expr')).map(([n, e]) => `(defvar ${n} ${e})`),
      fc.tuple(fc.constantFrom('x', 'y'), tie('expr')).map(([n, e]) => `(set ${n} ${e})`),
      fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(if ${c} ${a} ${b})`),
      fc.tuple(tie('expr'), tie('expr')).map(([v, b]) => `(let ((x ${v}) (y 1)) ${b})`),
      fc
        .tuple(fc.constantFrom('f', 'h'), fc.constantFrom('()', '(a)', '(a b)'), tie('expr'))
        .map(([n, p, b]) => `(def ${n} ${p} ${b})`),
      tie('expr').map((b) => `(with Guests g ${b})`),
      tie('expr').map((v) => `(g.Control "balloon_target" ${v})`),
      fc.array(tie('expr'), { maxLength: 3 }).map((xs) => `{${xs.join(' ')}}`),
    ),
    expr: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('atom'), tie('call'), tie('form')),
  }));
  return fc
    .array(fc.tuple(expr, fc.constantFrom('\n', ' ', '  # note\n', '\n\n')), { minLength: 1, maxLength: 8 })
    .map((forms) => forms.map(([e, sep]) => e + sep).join(''));
}

const NOISE = [
  '(',
  ')',
  '{',
  '}',
  '"',
  "'",
  '#',
  '.',
  ' ',
  '\n',
  '\t',
  '@',
  '\\',
  '-',
  '0',
  'x',
  'é',
  '\u0000',
];

/** A corpus text with 1 to 6 edits: characters deleted, inserted, a slice repeated or moved. */
export function mutatedText(corpus: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.constantFrom('delete', 'insert', 'repeat', 'swap'),
    fc.nat(),
    fc.nat(),
    fc.integer({ min: 1, max: 12 }),
    fc.constantFrom(...NOISE),
  );
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(edit, { minLength: 1, maxLength: 6 }))
    .map(([text, edits]) => {
      let t = text;
      for (const [kind, a, b, len, ch] of edits) {
        const i = t.length === 0 ? 0 : a % t.length;
        const j = t.length === 0 ? 0 : b % t.length;
        if (kind === 'delete') t = t.slice(0, i) + t.slice(i + len);
        else if (kind === 'insert') t = t.slice(0, i) + ch.repeat(len % 3 === 0 ? len : 1) + t.slice(i);
        else if (kind === 'repeat') t = t.slice(0, i) + t.slice(i, i + len * 4) + t.slice(i);
        else
          t =
            t.slice(0, Math.min(i, j)) +
            t.slice(Math.max(i, j), Math.max(i, j) + len) +
            t.slice(Math.min(i, j));
      }
      return t;
    });
}

/** The snapshot every evaluation runs against: a host and two guests with a few samples. */
export const FUZZ_SNAPSHOT: Snapshot = {
  host: {
    properties: { interval: 10, time: 100 },
    stats: [1, 2, 3].map((i) => ({ mem_free: 100_000 * i, mem_available: 200_000, swap_in: i })),
  },
  guests: ['a', 'b'].map((name, k) => ({
    properties: { name },
    stats: [1, 2].map((i) => ({
      balloon_cur: 500_000 + k * i,
      balloon_max: 1_000_000,
      mem_unused: 50_000 * i,
      swap_in_rate: i - 1,
    })),
  })),
};

export interface FuzzOutcome {
  /** The stage that ended the text: a load error, check errors, an evaluation error, or none. */
  readonly stage: 'load' | 'check' | 'eval' | 'ok';
  readonly ms: number;
}

/**
 * One text through every stage. Throws (an AssertionError-like Error naming the problem) when a
 * property does not hold: something other than a PolicyError thrown, an error without a position
 * in the text, or over MAX_MS.
 */
export function runText(text: string): FuzzOutcome {
  const started = performance.now();
  const lines = text.split('\n').length;
  const positioned = (e: unknown, where: string): void => {
    if (!(e instanceof PolicyError)) throw new Error(`${where}: not a PolicyError: ${String(e)}`);
    const { file, line, col } = e.span;
    if (file !== FUZZ_FILE || !(line >= 1 && line <= lines + 1) || !(col >= 1))
      throw new Error(`${where}: error outside the text (${file}:${line}:${col}): ${e.message}`);
  };
  let stage: FuzzOutcome['stage'] = 'ok';
  const loaded = loadPolicySet([{ file: FUZZ_FILE, text }]);
  if (!loaded.ok) {
    if (loaded.errors.length === 0) throw new Error('load failed with no error');
    loaded.errors.forEach((e) => positioned(e, 'load'));
    stage = 'load';
  } else {
    const problems = checkPolicySet(loaded.set);
    problems.forEach((e) => positioned(e, 'check'));
    if (problems.some((p) => p.severity === 'error')) stage = 'check';
    // Evaluated even when the checks found errors: the daemon must survive what a check rejects.
    const engine = new PolicyEngine(() => {});
    const accepted = engine.load([{ file: FUZZ_FILE, text }]);
    if (!accepted.ok) throw new Error('the engine refused a text that loads');
    const result = engine.evaluate(FUZZ_SNAPSHOT);
    if (!result.ok) {
      positioned(result.error, 'eval');
      if (stage === 'ok') stage = 'eval';
    }
  }
  const ms = performance.now() - started;
  if (ms > MAX_MS) throw new Error(`took ${ms.toFixed(0)} ms (over ${MAX_MS})`);
  return { stage, ms };
}
