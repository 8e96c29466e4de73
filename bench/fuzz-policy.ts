// Long fuzzing of the policy language (issue 12): FUZZ_RUNS texts (default 10^6), half from the
// grammar, half mutated from the corpus, each through lexer, parser, checks and evaluator (see
// test/fuzz/policy-fuzz.ts for what must hold). Prints the machine, the seed (give FUZZ_SEED to
// run the same texts again), the time, how the texts ended and the slowest ones. A failure prints
// fast-check's report with the smallest failing text it found and exits 1. Not part of `npm test`,
// which runs 10^4 with a fixed seed.
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  corpusTexts,
  generatedText,
  mutatedText,
  runText,
  type FuzzOutcome,
} from '../test/fuzz/policy-fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const root = fileURLToPath(new URL('../../', import.meta.url));

function run(name: string, arbitrary: fc.Arbitrary<string>, runs: number, seed: number): boolean {
  const stages = new Map<FuzzOutcome['stage'], number>();
  const times: number[] = [];
  const started = performance.now();
  const result = fc.check(
    fc.property(arbitrary, (text) => {
      const o = runText(text);
      stages.set(o.stage, (stages.get(o.stage) ?? 0) + 1);
      times.push(o.ms);
    }),
    { seed, numRuns: runs },
  );
  const s = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const q = (p: number): string =>
    (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(3);
  console.log(
    `${name}: ${runs} texts, seed ${seed}, ${s.toFixed(1)} s; ended at ${[...stages].map(([k, v]) => `${k} ${v}`).join(', ')}; ms per text median ${q(0.5)}, p99 ${q(0.99)}, max ${q(1)}`,
  );
  if (result.failed) console.log(fc.defaultReportMessage(result));
  return !result.failed;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `policy fuzzing: ${new Date().toISOString()}, ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 20)} MiB, node ${process.version}`,
);
const corpus = corpusTexts(root, ['policies', 'test/policy/cases', 'bench/policies']);
const half = Math.ceil(RUNS / 2);
const ok = [
  run('from the grammar', generatedText(), half, SEED),
  run(`mutated corpus (${corpus.length} files)`, mutatedText(corpus), RUNS - half, SEED + 1),
].every(Boolean);
process.exit(ok ? 0 : 1);
