import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import type { RecordedCycle, RecordHeader } from './format.js';
import { readRecording, RecordingError, type ReadOptions, type RecordingWarning } from './reader.js';

const header: RecordHeader = {
  kind: 'header',
  format: 1,
  momd: '0.1.0',
  time: '2026-12-03T10:00:00.000Z',
  fields: { host: ['mem_free'], guest: ['balloon_cur'] },
  historyLength: 5,
};

function cycle(time: string, at: number): RecordedCycle {
  return {
    kind: 'cycle',
    time,
    at,
    durationMs: 1,
    status: 'done',
    detail: null,
    dryRun: false,
    policyHash: 'h',
    host: { properties: {}, samples: [{ mem_free: at }], newHistory: at === 0 },
    guests: [],
    controls: { host: {}, guests: {} },
    outcomes: [],
  };
}

const jsonl = (...values: unknown[]): string => values.map((v) => JSON.stringify(v) + '\n').join('');

async function read(dir: string, opts: ReadOptions = {}): Promise<number[]> {
  const ats: number[] = [];
  for await (const e of readRecording(dir, opts)) ats.push(e.cycle.at);
  return ats;
}

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'momd-read-'));
}

test('cycles come in the order written: rotated files by name (gzip), then the current file', async () => {
  const dir = folder();
  // Written out of order on purpose: the names give the order.
  writeFileSync(join(dir, 'current.jsonl'), jsonl(header, cycle('2026-12-03T12:00:00Z', 4)));
  writeFileSync(
    join(dir, 'cycles-20261203T115959Z-001.jsonl.gz'),
    gzipSync(jsonl(header, cycle('2026-12-03T11:00:00Z', 2), cycle('2026-12-03T11:30:00Z', 3))),
  );
  writeFileSync(
    join(dir, 'cycles-20261203T105959Z-001.jsonl.gz'),
    gzipSync(jsonl(header, cycle('2026-12-03T10:00:00Z', 0), cycle('2026-12-03T10:30:00Z', 1))),
  );
  writeFileSync(join(dir, 'rotated.txt'), 'not a recording file\n');
  assert.deepEqual(await read(dir), [0, 1, 2, 3, 4]);
  assert.deepEqual(
    await read(dir, { from: new Date('2026-12-03T10:30:00Z'), to: new Date('2026-12-03T11:30:00Z') }),
    [1, 2, 3],
  );
  const first = await readRecording(dir).next();
  assert.equal(first.done, false);
  if (!first.done) {
    assert.deepEqual(first.value.header, header);
    assert.match(first.value.file, /cycles-20261203T105959Z-001\.jsonl\.gz$/);
    assert.equal(first.value.line, 2);
  }
});

test('a last line cut short is skipped with one warning', async () => {
  const dir = folder();
  const text = jsonl(header, cycle('2026-12-03T10:00:00Z', 0), cycle('2026-12-03T10:00:10Z', 1));
  writeFileSync(
    join(dir, 'current.jsonl'),
    text + JSON.stringify(cycle('2026-12-03T10:00:20Z', 2)).slice(0, 40),
  );
  const warnings: RecordingWarning[] = [];
  assert.deepEqual(await read(dir, { onWarning: (w) => warnings.push(w) }), [0, 1]);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.code, 'MOM_W_RECORD_TRUNCATED');
  assert.equal(warnings[0]?.line, 4);
  assert.match(warnings[0]?.message ?? '', /current\.jsonl:4: the last line is cut short/);
});

test('a gzip file cut short (momd stopped while compressing it) keeps what it holds, with a warning', async () => {
  const dir = folder();
  const gz = gzipSync(
    jsonl(header, ...Array.from({ length: 50 }, (_, i) => cycle('2026-12-03T10:00:00Z', i))),
  );
  writeFileSync(join(dir, 'cycles-20261203T105959Z-001.jsonl.gz'), gz.subarray(0, gz.length - 30));
  writeFileSync(join(dir, 'current.jsonl'), jsonl(header, cycle('2026-12-03T11:00:00Z', 100)));
  const warnings: RecordingWarning[] = [];
  const ats = await read(dir, { onWarning: (w) => warnings.push(w) });
  assert.equal(ats.at(-1), 100);
  assert.ok(ats.length > 1 && ats.length <= 51, String(ats));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /cut short/);
});

test('a malformed line elsewhere is an error naming the file, the line and the field', async () => {
  const dir = folder();
  writeFileSync(join(dir, 'current.jsonl'), jsonl(header, cycle('2026-12-03T10:00:00Z', 0)) + 'oops\n');
  await assert.rejects(read(dir), (err: unknown) => {
    assert.ok(err instanceof RecordingError);
    assert.equal(err.code, 'MOM_E_RECORDING');
    assert.match(err.message, /current\.jsonl:3: not a JSON line/);
    return true;
  });
  const bad = {
    ...cycle('2026-12-03T10:00:00Z', 1),
    guests: [{ properties: {}, samples: [], newHistory: true }],
  };
  writeFileSync(join(dir, 'current.jsonl'), jsonl(header, bad, cycle('2026-12-03T10:00:10Z', 2)));
  await assert.rejects(read(dir), /current\.jsonl:2: guests\[0\]\.properties\.name: /);
  writeFileSync(join(dir, 'current.jsonl'), jsonl(cycle('2026-12-03T10:00:00Z', 0)));
  await assert.rejects(read(dir), /current\.jsonl:1: a cycle line before any header line/);
});

test('a missing folder, or one with no recording, is an error naming it', async () => {
  const dir = folder();
  await assert.rejects(read(join(dir, 'nope')), /nope: cannot read the recording folder: no such folder/);
  mkdirSync(join(dir, 'empty'));
  await assert.rejects(read(join(dir, 'empty')), /empty: holds no recording/);
});
