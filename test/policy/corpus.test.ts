// Runs every policy in test/policy/cases through momctl (in-process) and compares with the
// expectations written in its comments:
//   # expect: JSON             one per top-level expression, in order (the `policy eval` output)
//   # expect error: L:C MSG    `policy eval` fails: exit 1, nothing on stdout, FILE:L:C: error: MSG on stderr
//   # expect check: L:C MSG    `policy check` reports exactly these errors (and exits 1)
//   # expect check: ok         `policy check` prints the line `ok`: no error, no warning (exit 0)
//   # expect warning: L:C MSG  `policy check` reports exactly these warnings (a file that states
//                              none is not held to any: old cases predate the warnings)
//   # [mom] ...                what MOM 0.6.5 does instead, where we differ on purpose (not checked)
// A file with only `expect:` lines must also pass `policy check` without errors (exit 0).
// A sibling NAME.env.json is passed as --env (to eval and check); NAME.mom.conf as check's --config.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runMomctl } from '../../src/cli/momctl-main.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const casesDir = join(repoRoot, 'test/policy/cases');

interface Expectations {
  values: string[];
  error: string | undefined;
  check: string[];
  checkOk: boolean;
  warnings: string[];
}

function parseExpectations(text: string): Expectations {
  const out: Expectations = { values: [], error: undefined, check: [], checkOk: false, warnings: [] };
  for (const line of text.split('\n')) {
    const m = /#\s*expect( error| check| warning)?:\s?(.*)$/.exec(line);
    if (!m || /#\s*\[mom\]/.test(line)) continue;
    const body = (m[2] ?? '').trim();
    if (m[1] === ' error') out.error = body;
    else if (m[1] === ' check' && body === 'ok') out.checkOk = true;
    else if (m[1] === ' check') out.check.push(body);
    else if (m[1] === ' warning') out.warnings.push(body);
    else out.values.push(body);
  }
  return out;
}

/** `L:C MSG` as the line momctl prints for FILE. */
function diagnostic(file: string, severity: 'error' | 'warning', expected: string): string {
  const [pos = '', ...msg] = expected.split(' ');
  return `${file}:${pos}: ${severity}: ${msg.join(' ')}`;
}

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMomctl(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err };
}

function policyFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return policyFiles(p);
      return name.endsWith('.policy') ? [p] : [];
    });
}

const files = policyFiles(casesDir);

test('the corpus is not empty', () => {
  assert.ok(files.length >= 50, `only ${files.length} corpus files found in ${casesDir}`);
});

for (const dir of [...new Set(files.map((f) => relative(casesDir, f).split('/')[0]))]) {
  describe(`policy corpus: ${dir}`, () => {
    for (const abs of files.filter((f) => relative(casesDir, f).startsWith(dir + '/'))) {
      const file = relative(process.cwd(), abs);
      const expected = parseExpectations(readFileSync(abs, 'utf8'));
      const envFile = abs.replace(/\.policy$/, '.env.json');
      const envArgs = existsSync(envFile) ? ['--env', relative(process.cwd(), envFile)] : [];
      const confFile = abs.replace(/\.policy$/, '.mom.conf');
      const confArgs = existsSync(confFile) ? ['--config', relative(process.cwd(), confFile)] : [];

      test(relative(casesDir, abs), async () => {
        assert.ok(
          expected.values.length > 0 ||
            expected.error !== undefined ||
            expected.check.length > 0 ||
            expected.checkOk ||
            expected.warnings.length > 0,
          'a corpus file must state at least one expectation',
        );
        const evaluated = await run(['policy', 'eval', ...envArgs, file]);
        if (expected.error !== undefined) {
          assert.equal(evaluated.code, 1, `expected an error, got ${evaluated.out.join('')}`);
          assert.deepEqual(evaluated.out, [], 'nothing on stdout on error');
          const wanted = diagnostic(file, 'error', expected.error);
          assert.ok(
            evaluated.err.some((e) => e.split('\n').includes(wanted)),
            `stderr should have the line\n  ${wanted}\ngot\n  ${evaluated.err.join('\n  ')}`,
          );
        } else {
          assert.equal(evaluated.code, 0, `eval failed: ${evaluated.err.join('\n')}`);
          const got = JSON.parse(evaluated.out.join('')) as unknown[];
          assert.deepEqual(
            got,
            expected.values.map((v) => JSON.parse(v) as unknown),
          );
        }

        const checked = await run(['policy', 'check', ...envArgs, ...confArgs, file]);
        const reported = checked.err.join('\n').split('\n');
        if (expected.checkOk) {
          assert.deepEqual(
            { code: checked.code, out: checked.out, err: checked.err },
            { code: 0, out: ['ok'], err: [] },
          );
        }
        if (expected.check.length > 0) {
          assert.equal(checked.code, 1);
          assert.deepEqual(
            reported.filter((l) => l.includes(': error: ')),
            expected.check.map((c) => diagnostic(file, 'error', c)),
          );
        } else if (expected.error === undefined) {
          assert.equal(checked.code, 0, `policy check should be clean: ${checked.err.join('\n')}`);
        }
        if (expected.warnings.length > 0) {
          assert.deepEqual(
            reported.filter((l) => l.includes(': warning: ')),
            expected.warnings.map((w) => diagnostic(file, 'warning', w)),
          );
        }
      });
    }
  });
}
