import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMomctl } from '../cli/momctl-main.js';
import { PolicyEngine } from '../engine/policy-engine.js';
import type { RecordedCycle, RecordHeader } from './format.js';
import { RecordedHistory } from './history.js';
import { readRecording } from './reader.js';
import { replayRecording } from './replay.js';

const header: RecordHeader = {
  kind: 'header',
  format: 1,
  momd: '0.1.0',
  time: '2026-12-03T10:00:00.000Z',
  fields: { host: ['mem_free'], guest: ['balloon_cur'] },
  historyLength: 2,
};

type Controls = Record<string, Record<string, number>>;

/** A cycle with guests a and b at the given balloon sizes, and the controls the recorded policy set. */
function cycle(
  at: number,
  cur: { a: number; b: number },
  controls: Controls | null,
  status: RecordedCycle['status'] = 'done',
): RecordedCycle {
  return {
    kind: 'cycle',
    time: new Date(Date.parse('2026-12-03T10:00:00Z') + at * 1000).toISOString(),
    at,
    durationMs: 1,
    status,
    detail: status === 'policy-error' ? 'recorded.policy:1:1: error: boom' : null,
    dryRun: false,
    policyHash: 'recordedhash',
    host: { properties: { interval: 10 }, samples: [{ mem_free: 1000 - at }], newHistory: at === 10 },
    guests: (['a', 'b'] as const).map((name) => ({
      properties: { name },
      samples: [{ balloon_cur: cur[name] }],
      newHistory: at === 10,
    })),
    controls: controls === null ? null : { host: {}, guests: controls },
    outcomes: [],
  };
}

const skipped: RecordedCycle = {
  ...cycle(25, { a: 0, b: 0 }, null),
  status: 'skipped',
  detail: 'host not ready',
  host: null,
  guests: [],
  controls: null,
};

/** The hand-worked recording: three cycles with a snapshot and one skipped. */
function recording(): string {
  const dir = mkdtempSync(join(tmpdir(), 'momd-replay-'));
  const lines = [
    header,
    cycle(10, { a: 4096, b: 2048 }, { a: { balloon_target: 3500 } }),
    cycle(20, { a: 3500, b: 2048 }, { a: { balloon_target: 2000 }, b: { balloon_target: 1000 } }),
    skipped,
    cycle(30, { a: 2000, b: 1000 }, null, 'policy-error'),
  ];
  writeFileSync(join(dir, 'current.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  return dir;
}

/** The test policy: every guest's balloon to 3000 KiB, whatever happens. */
function fixedPolicy(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'momd-replay-policy-')), 'fixed.policy');
  writeFileSync(file, '(with Guests guest (guest.Control "balloon_target" 3000))\n');
  return file;
}

// Worked by hand (KiB; the Balloon controller's dead band is 1024: a target within 1024 of
// balloon_cur is no action; reclaimed adds balloon_cur - target when the target is below it):
//
// cycle   a: cur  rec   rep   | b: cur  rec   rep
// t=10       4096 3500  3000  |    2048 -     3000
// t=20       3500 2000  3000  |    2048 1000  3000
// t=30       2000 -(*)  3000  |    1000 -(*)  3000     (*) the recorded policy failed: nothing set
//
// a: reclaimed recorded 596 + 1500 + 0 = 2096, replayed 1096 + 500 + 0 = 1596
//    actions recorded: t=20 (|2000-3500| = 1500 > 1024); t=10 is 596, within the band: 1
//    actions replayed: t=10 (|3000-4096| = 1096 > 1024); t=20 is 500, t=30 is 1000: 1
//    differences (an unset control stays at cur): t=20 2000 vs 3000 (1000), t=30 2000 vs 3000
//    (1000), t=10 3500 vs 3000 (500); ties keep the earlier cycle first
// b: reclaimed recorded 0 + 1048 + 0 = 1048, replayed 0 (3000 is above cur every time)
//    actions recorded: t=20 (|1000-2048| = 1048 > 1024): 1
//    actions replayed: t=30 (|3000-1000| = 2000); t=10 and t=20 are 952: 1
//    differences: t=20 1000 vs 3000 (2000), t=30 1000 vs 3000 (2000), t=10 2048 vs 3000 (952)
// host: no control set by either: 3 cycles, nothing else.
test('a hand-computed replay: reclaimed totals, action counts and the largest differences', async () => {
  const dir = recording();
  const engine = new PolicyEngine(() => {});
  const file = fixedPolicy();
  assert.equal(engine.load([{ file, text: readFileSync(file, 'utf8') }]).ok, true);
  const report = await replayRecording(readRecording(dir), engine, { top: 3 });
  assert.equal(report.cycles, 3);
  assert.equal(report.skipped, 1);
  assert.equal(report.from, '2026-12-03T10:00:10.000Z');
  assert.equal(report.to, '2026-12-03T10:00:30.000Z');
  assert.deepEqual(report.recordedPolicies, ['recordedhash']);
  assert.equal(report.recordedErrors, 1);
  assert.deepEqual(report.replayErrors, { cycles: 0, first: null });
  const d = (at: number, current: number, recorded: number | null, replayed: number | null) => ({
    time: new Date(Date.parse('2026-12-03T10:00:00Z') + at * 1000).toISOString(),
    at,
    control: 'balloon_target',
    current,
    recorded,
    replayed,
  });
  assert.deepEqual(report.entities, [
    {
      entity: 'host',
      cycles: 3,
      reclaimedKib: { recorded: 0, replayed: 0 },
      actions: { recorded: 0, replayed: 0 },
      differences: [],
    },
    {
      entity: 'a',
      cycles: 3,
      reclaimedKib: { recorded: 2096, replayed: 1596 },
      actions: { recorded: 1, replayed: 1 },
      differences: [d(20, 3500, 2000, 3000), d(30, 2000, null, 3000), d(10, 4096, 3500, 3000)],
    },
    {
      entity: 'b',
      cycles: 3,
      reclaimedKib: { recorded: 1048, replayed: 0 },
      actions: { recorded: 1, replayed: 1 },
      differences: [d(20, 2048, 1000, 3000), d(30, 1000, null, 3000), d(10, 2048, null, 3000)],
    },
  ]);
});

test('momctl replay prints the same report as JSON, and a table by default', async () => {
  const dir = recording();
  const file = fixedPolicy();
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMomctl(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const json = await run('replay', dir, '--policy', file, '--json', '--top', '1');
  assert.equal(json.code, 0, json.err);
  const report = JSON.parse(json.out) as {
    policy: string[];
    entities: Array<{ entity: string; reclaimedKib: unknown; differences: unknown[] }>;
  };
  assert.deepEqual(report.policy, [file]);
  assert.deepEqual(
    report.entities.map((e) => [e.entity, e.reclaimedKib, e.differences.length]),
    [
      ['host', { recorded: 0, replayed: 0 }, 0],
      ['a', { recorded: 2096, replayed: 1596 }, 1],
      ['b', { recorded: 1048, replayed: 0 }, 1],
    ],
  );
  const text = await run('replay', dir, '--policy', file);
  assert.equal(text.code, 0, text.err);
  assert.match(
    text.out,
    /^replayed 3 cycles from 2026-12-03T10:00:10.000Z to 2026-12-03T10:00:30.000Z \(1 skipped/,
  );
  assert.match(text.out, /open loop/);
  assert.match(text.out, /\na +3 +2 +2 +1 +1\n/);
  // --from/--to narrow the cycles replayed.
  const late = await run('replay', dir, '--policy', file, '--json', '--from', '2026-12-03T10:00:20Z');
  assert.equal((JSON.parse(late.out) as { cycles: number }).cycles, 2);
});

test('momctl replay: a bad time, a missing folder, an empty range or a broken policy is exit 1 naming it', async () => {
  const dir = recording();
  const run = async (...args: string[]) => {
    const err: string[] = [];
    const code = await runMomctl(args, { out: () => {}, err: (t) => err.push(t) });
    return { code, err: err.join('\n') };
  };
  const badTime = await run('replay', dir, '--from', 'yesterday');
  assert.equal(badTime.code, 1);
  assert.match(badTime.err, /--from 'yesterday': expected an ISO time/);
  const missing = await run('replay', join(dir, 'nope'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope: cannot read the recording folder: no such folder/);
  const empty = await run('replay', dir, '--from', '2030-01-01');
  assert.equal(empty.code, 1);
  assert.match(empty.err, /no recorded policy cycle between 2030-01-01T00:00:00.000Z and the end/);
  const broken = join(mkdtempSync(join(tmpdir(), 'momd-replay-policy-')), 'broken.policy');
  writeFileSync(broken, '(defvar x 1)\n(+ 1 2\n');
  const policy = await run('replay', dir, '--policy', broken);
  assert.equal(policy.code, 1);
  assert.match(policy.err, /broken\.policy:2:1: error: /);
});

test('the rebuilt history keeps historyLength samples per entity and starts again on newHistory', () => {
  const h = new RecordedHistory();
  const entry = (c: RecordedCycle) => ({ header, cycle: c, file: 'f', line: 1 });
  h.next(entry(cycle(10, { a: 1, b: 1 }, null)));
  h.next(entry(cycle(20, { a: 2, b: 2 }, null)));
  const s = h.next(entry(cycle(30, { a: 3, b: 3 }, null)));
  assert.deepEqual(
    s?.guests.map((g) => g.stats),
    [
      [{ balloon_cur: 2 }, { balloon_cur: 3 }],
      [{ balloon_cur: 2 }, { balloon_cur: 3 }],
    ],
  );
  assert.deepEqual(s?.fields, header.fields);
  const again = { ...cycle(40, { a: 4, b: 4 }, null) };
  again.guests = again.guests.map((g) => (g.properties.name === 'a' ? { ...g, newHistory: true } : g));
  const t = h.next(entry(again));
  assert.deepEqual(
    t?.guests.map((g) => g.stats.length),
    [1, 2],
  );
  assert.equal(h.next(entry(skipped)), null);
});
