// Fuzzing of momd's other inputs (issue 12): mom.conf texts (the shipped and test configurations
// with random edits) and snapshots (random JSON, and valid snapshots with odd values). What must
// hold: a configuration either loads or fails with a ConfigError whose every problem names the
// file (and, for a line of the file, its line); a snapshot either parses or fails with a
// SnapshotError naming the file and the field; a snapshot that parses is evaluated by the shipped
// policies with nothing thrown but a PolicyError. Fixed seeds, a few thousand inputs each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { PolicyEngine } from '../../src/engine/policy-engine.js';
import { parseSnapshot, SnapshotError } from '../../src/entities/snapshot.js';
import { readPolicySources } from '../../src/policy/sources.js';
import { mutatedText } from './policy-fuzz.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RUNS = 2000;

test(`${RUNS} mom.conf texts with random edits: loaded, or a ConfigError naming the file and line`, () => {
  const corpus = ['contrib/momd.conf', 'test/fixtures/vdsm/mom.conf'].map((f) =>
    readFileSync(join(root, f), 'utf8'),
  );
  let failed = 0;
  fc.assert(
    fc.property(mutatedText(corpus), (text) => {
      const lines = text.split('\n').length;
      try {
        const { warnings } = loadConfig({ file: 'fuzz.conf', text });
        for (const w of warnings) assert.match(w, /^fuzz\.conf(:\d+)?[:\s]/, w);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        failed++;
        for (const p of e.problems) {
          const m = /^fuzz\.conf(?::(\d+))?[:\s]/.exec(p);
          assert.ok(m, `a problem that does not name the file: ${p}`);
          if (m[1] !== undefined) assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= lines, p);
        }
      }
    }),
    { seed: 1203, numRuns: RUNS },
  );
  assert.ok(failed > RUNS / 20, `only ${failed} of ${RUNS} edited configurations failed`);
});

/** Statistic values a collector could never give but a hand-made snapshot can hold. */
const oddValue = fc.oneof(
  fc.constantFrom(null, 0, -1, 1e300, -0.5, '', 'x', true, false, Number.MAX_SAFE_INTEGER),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const FIELDS = [
  'mem_free',
  'mem_available',
  'mem_unused',
  'balloon_cur',
  'balloon_max',
  'balloon_min',
  'rss',
  'swap_in_rate',
  'major_fault_rate',
  'mem_usable',
  'shares',
  'psi_some_avg10',
  'cpu_usage',
  'swapped',
  'stats_age_s',
];
const sample = fc.dictionary(fc.constantFrom(...FIELDS), oddValue, { maxKeys: FIELDS.length });
const snapshotJson = fc.record({
  host: fc.record({
    properties: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    stats: fc.array(sample, { maxLength: 3 }),
  }),
  guests: fc.array(
    fc.record({
      properties: fc.record({ name: fc.string({ maxLength: 5 }) }),
      stats: fc.array(sample, { maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
});

test(`${RUNS} snapshots, random JSON or odd values: parsed or a SnapshotError; the shipped policies throw nothing but PolicyErrors`, () => {
  const policies = ['policies/default', 'policies/classic'].map((d) => {
    const engine = new PolicyEngine(() => {});
    const loaded = engine.load(readPolicySources([join(root, d)]));
    assert.ok(loaded.ok);
    return engine;
  });
  let evaluated = 0;
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), snapshotJson), (json) => {
      let snapshot;
      try {
        snapshot = parseSnapshot(json, 'fuzz.json');
      } catch (e) {
        if (!(e instanceof SnapshotError)) throw e;
        for (const line of e.message.split('\n')) assert.match(line, /^fuzz\.json: /, line);
        return;
      }
      for (const engine of policies) {
        // A PolicyError is a result; anything else escapes evaluate() and fails the property.
        engine.evaluate(snapshot);
        evaluated++;
      }
    }),
    { seed: 1204, numRuns: RUNS },
  );
  assert.ok(evaluated > RUNS / 4, `only ${evaluated} evaluations`);
});
