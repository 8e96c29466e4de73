// A recording played into the dashboard's read model and timeline: a hand-written recording of
// three cycles (a guest leaves after the first; the policy fails in the third).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openRecording } from './recording.js';
import { GUEST_SERIES, HOST_SERIES } from './series.js';

const header = {
  kind: 'header',
  format: 1,
  momd: 'test',
  time: '2026-12-03T10:00:00.000Z',
  fields: null,
  historyLength: 10,
};
const host = (free: number) => ({
  properties: {},
  samples: [{ mem_total: 1000, mem_unused: free, mem_cached: 100 }],
  newHistory: false,
});
const guest = (name: string, cur: number) => ({
  properties: { name },
  samples: [{ balloon_cur: cur, balloon_max: 800 }],
  newHistory: false,
});
const cycle = (i: number, extra: Record<string, unknown>) => ({
  kind: 'cycle',
  time: `2026-12-03T10:00:0${i}.000Z`,
  at: i * 10,
  durationMs: 1,
  status: 'done',
  detail: null,
  dryRun: false,
  policyHash: 'a'.repeat(64),
  host: host(500 - i),
  guests: [],
  controls: { host: {}, guests: {} },
  outcomes: [],
  ...extra,
});

test('a recording plays into the read model and the timeline at its recorded times', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rec-dash-'));
  const lines = [
    header,
    cycle(1, {
      guests: [guest('a', 700), guest('b', 600)],
      outcomes: [
        {
          controller: 'Balloon',
          entity: 'a',
          control: 'balloon_target',
          outcome: 'applied',
          old: 800,
          new: 700,
          reason: 'host short of memory',
        },
      ],
    }),
    // b is gone; a has no new sample (its latest stays 700).
    cycle(2, { guests: [{ properties: { name: 'a' }, samples: [], newHistory: false }] }),
    cycle(3, {
      status: 'policy-error',
      detail: 'p.policy:3:7: error: x is not defined',
      controls: null,
      guests: [guest('a', 650)],
    }),
  ];
  writeFileSync(join(dir, 'current.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const rec = await openRecording(dir, { version: 'test' });
  assert.equal(rec.cycles, 3);
  assert.equal(rec.from, '2026-12-03T10:00:01.000Z');
  assert.equal(rec.to, '2026-12-03T10:00:03.000Z');

  const status = rec.model.status();
  assert.deepEqual(status.backend, {
    hypervisor: 'recording',
    folder: dir,
    from: rec.from,
    to: rec.to,
    cycles: 3,
  });
  assert.equal(status.policy?.hash, 'a'.repeat(64));
  assert.equal(status.lastCycle?.status, 'policy-error');
  assert.equal(status.lastCycle?.time, '2026-12-03T10:00:03.000Z');
  assert.match(status.recentErrors.at(-1)?.message ?? '', /p\.policy:3:7/);
  assert.deepEqual(
    rec.model.guests().map((g) => [g.name, g.sizeKib]),
    [['a', 650]],
  );
  const d = rec.model.decisions();
  assert.equal(d.length, 1);
  assert.equal(d[0]?.time, '2026-12-03T10:00:01.000Z');
  assert.equal(d[0]?.reason, 'host short of memory');

  const v = rec.timeline.view({ guests: ['a', 'b'] });
  assert.deepEqual(v.at, [10, 20, 30]);
  assert.deepEqual(
    v.t,
    [1, 2, 3].map((i) => Date.parse(`2026-12-03T10:00:0${i}.000Z`)),
  );
  const used = HOST_SERIES.findIndex((s) => s.key === 'mem_used');
  assert.deepEqual(v.host[used], [1000 - 499 - 100, 1000 - 498 - 100, 1000 - 497 - 100]);
  const cur = GUEST_SERIES.findIndex((s) => s.key === 'balloon_cur');
  assert.deepEqual(v.guests['a']?.[cur], [700, 700, 650]);
  assert.equal(v.guests['b'], undefined, 'a guest gone from the recording is gone from the timeline');
});

test('no cycle in the period asked for is an error naming the folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rec-dash-'));
  writeFileSync(join(dir, 'current.jsonl'), `${JSON.stringify(header)}\n${JSON.stringify(cycle(1, {}))}\n`);
  await assert.rejects(openRecording(dir, { version: 't', from: new Date('2027-01-01T00:00:00Z') }), {
    message: `${dir}: no recorded cycle in that period`,
  });
});
