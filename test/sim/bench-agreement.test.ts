// The simulator against the real guests: the scenarios bench-moderate, bench-heavy and
// bench-idle-heavy mirror the real-guest overcommit benchmark's patterns (bench/overcommit), and
// each is run under the policies none, classic and default through the daemon's engine (the same
// path as `momctl simulate`). The throughput of each policy relative to none must agree with the
// real benchmark's figures, kept as data in test/fixtures/bench-real.json:
//   - every ratio within ±30% of the real one: |sim / real - 1| <= 0.3, except the gaps the data
//     file lists under known_gaps with their reason (printed, never silent);
//   - the same order as the real runs wherever the real ratios differ by more than the noise
//     (0.1): classic below none, default above classic; ratios closer than that are ties, and
//     either order is accepted. A pair with a known gap's cell is not ordered either (said aloud):
//     the simulator is already known to be wrong about that cell.
// As in the real benchmark, the first 60 s are a warm-up; the window is the two full periods of
// the pattern (480 s) after it. docs/simulator.md, "The benchmark's scenarios", has the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulate } from '../../src/cli/simulate-command.js';

// The compiled file runs from dist/test/sim/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const PATTERNS = ['moderate', 'heavy', 'idle-heavy'] as const;
const POLICIES = ['none', 'classic', 'default'] as const;
type Policy = (typeof POLICIES)[number];

/** The real benchmark's warm-up, then the window: two periods of the longest pattern (240 s). */
const WARMUP_S = 60;
const WINDOW_S = 480;
/** Real ratios closer than this are within the benchmark's noise: a tie. */
const NOISE = 0.1;
/** How far a simulated ratio may be from the real one, relative. */
const TOLERANCE = 0.3;
const SEED = 1;

type RealFigures = Record<(typeof PATTERNS)[number], Record<Policy, number>> & {
  /** "pattern.policy" → why the simulator is known not to agree there: no ratio check, said aloud. */
  known_gaps?: Record<string, string>;
};

function realFigures(): RealFigures {
  const data = JSON.parse(
    readFileSync(path.join(repoRoot, 'test/fixtures/bench-real.json'), 'utf8'),
  ) as Record<string, unknown>;
  for (const p of PATTERNS) {
    const row = data[p] as Record<string, unknown> | undefined;
    for (const policy of POLICIES) {
      assert.equal(typeof row?.[policy], 'number', `bench-real.json: ${p}.${policy} is not a number`);
    }
  }
  return data as unknown as RealFigures;
}

/**
 * Mean total throughput (MiB/s) in the window: the simulator's score is each guest's mean since
 * it started (all guests start at 0 and run throughout), so the window's mean comes from a run to
 * its end less a run to its start (the same seed gives the same first seconds).
 */
async function windowThroughput(pattern: string, policy: Policy): Promise<number> {
  const scenario = path.join(repoRoot, `scenarios/bench-${pattern}.yaml`);
  const end = WARMUP_S + WINDOW_S;
  const run = (duration: number) => simulate({ scenario, policy, seed: SEED, duration });
  const [warm, all] = [await run(WARMUP_S), await run(end)];
  for (const r of [warm, all]) {
    assert.equal(r.policy_errors, 0, `${pattern}/${policy}: policy cycles failed`);
    assert.equal(r.host_oom_kills, 0, `${pattern}/${policy}: the host killed a guest`);
  }
  return (all.throughput_total * end - warm.throughput_total * WARMUP_S) / WINDOW_S;
}

const real = realFigures();

for (const pattern of PATTERNS) {
  test(`bench-${pattern}: the simulator ranks none, classic and default as the real guests did`, async (t) => {
    const thr = {} as Record<Policy, number>;
    for (const policy of POLICIES) thr[policy] = await windowThroughput(pattern, policy);
    const sim = {} as Record<Policy, number>;
    for (const policy of POLICIES) sim[policy] = thr[policy] / thr.none;
    const want = real[pattern];
    t.diagnostic(POLICIES.map((p) => `${p}: sim ${sim[p].toFixed(2)} real ${want[p].toFixed(2)}`).join(', '));

    for (const policy of POLICIES) {
      const off = sim[policy] / want[policy] - 1;
      const gap = real.known_gaps?.[`${pattern}.${policy}`];
      if (gap !== undefined) {
        t.diagnostic(
          `KNOWN GAP ${pattern}/${policy}: ${(off * 100).toFixed(0)}% from the real ratio: ${gap}`,
        );
        continue;
      }
      assert.ok(
        Math.abs(off) <= TOLERANCE,
        `${pattern}/${policy}: simulated ratio ${sim[policy].toFixed(3)} is ${(off * 100).toFixed(0)}% ` +
          `from the real ${want[policy]} (at most ±${TOLERANCE * 100}%)`,
      );
    }
    for (const [i, a] of POLICIES.entries()) {
      for (const b of POLICIES.slice(i + 1)) {
        const gap = want[a] - want[b];
        if (Math.abs(gap) <= NOISE) continue; // a tie within the real benchmark's noise
        const known = [a, b].find((p) => real.known_gaps?.[`${pattern}.${p}`] !== undefined);
        if (known !== undefined) {
          t.diagnostic(
            `KNOWN GAP ${pattern}/${known}: order of ${a} and ${b} not checked ` +
              `(simulated ${sim[a].toFixed(3)} vs ${sim[b].toFixed(3)}, real ${want[a]} vs ${want[b]})`,
          );
          continue;
        }
        assert.equal(
          Math.sign(sim[a] - sim[b]),
          Math.sign(gap),
          `${pattern}: real ${a} ${want[a]} vs ${b} ${want[b]}, simulated ${sim[a].toFixed(3)} vs ${sim[b].toFixed(3)}`,
        );
      }
    }
    if (want.classic < want.none - NOISE) {
      assert.ok(sim.classic < sim.none, `${pattern}: classic must cost throughput, as on the real guests`);
    }
  });
}
