// A slice of the policy fuzzing in every `npm test`: 10^4 texts with a fixed seed, half from the
// grammar, half mutated from the corpus. The long runs (10^6) are bench/fuzz-policy.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { corpusTexts, generatedText, mutatedText, runText, type FuzzOutcome } from './policy-fuzz.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = 20261203;
const RUNS = 5000;

function fuzz(arbitrary: fc.Arbitrary<string>, seed: number): Map<FuzzOutcome['stage'], number> {
  const stages = new Map<FuzzOutcome['stage'], number>();
  fc.assert(
    fc.property(arbitrary, (text) => {
      const { stage } = runText(text);
      stages.set(stage, (stages.get(stage) ?? 0) + 1);
    }),
    { seed, numRuns: RUNS },
  );
  return stages;
}

test(`${RUNS} texts from the grammar: only positioned PolicyErrors, none over 1 s`, () => {
  const stages = fuzz(generatedText(), SEED);
  // The generator must reach every stage, or it tests less than it claims.
  for (const s of ['load', 'check', 'eval', 'ok'] as const)
    assert.ok((stages.get(s) ?? 0) > RUNS / 100, `stage ${s}: ${stages.get(s) ?? 0} of ${RUNS}`);
});

test(`${RUNS} corpus texts with random edits: only positioned PolicyErrors, none over 1 s`, () => {
  const corpus = corpusTexts(root, ['policies', 'test/policy/cases', 'bench/policies']);
  assert.ok(corpus.length > 100, `${corpus.length} corpus files`);
  const stages = fuzz(mutatedText(corpus), SEED + 1);
  for (const s of ['load', 'ok'] as const)
    assert.ok((stages.get(s) ?? 0) > RUNS / 100, `stage ${s}: ${stages.get(s) ?? 0} of ${RUNS}`);
});

test('each stage is told apart: a load error, a check error, an evaluation error, a good text', () => {
  assert.equal(runText('(+ 1 2').stage, 'load');
  assert.equal(runText('(nosuchfunction 1)').stage, 'check');
  assert.equal(runText('(/ 1 0)').stage, 'eval');
  assert.equal(runText('(with Guests g (g.Control "balloon_target" g.balloon_cur))').stage, 'ok');
});
