import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import type { Outcome } from '../controllers/controller.js';
import type { Sample } from '../entities/entity.js';
import type { Snapshot } from '../entities/snapshot.js';
import { EngineEvents } from '../engine/events.js';
import { CURRENT_FILE } from './files.js';
import { readRecording } from './reader.js';
import { cutPartialLine, Recorder, type RecorderOptions } from './recorder.js';

interface Said {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function logger(said: Said[]): RecorderOptions['log'] {
  const at =
    (level: Said['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      said.push({ level, fields, message });
    };
  return { info: at('info'), warn: at('warn') } as unknown as RecorderOptions['log'];
}

function open(dir: string, said: Said[], extra: Partial<RecorderOptions> = {}): Recorder {
  return Recorder.open({
    dir,
    maxBytes: 64 * 1024 * 1024,
    maxFiles: 4,
    version: '9.9.9',
    historyLength: () => 3,
    log: logger(said),
    now: () => Date.parse('2026-12-03T20:00:00Z'),
    ...extra,
  });
}

/** A snapshot whose host and guest histories are the given sample arrays (same objects). */
function snapshot(host: Sample[], guest: Sample[]): Snapshot {
  return {
    fields: { host: ['mem_free'], guest: ['balloon_cur'] },
    host: { properties: { interval: 10 }, stats: host },
    guests: [{ properties: { name: 'vm1', uuid: 'u1', pid: 42 }, stats: guest }],
  };
}

const applied: Outcome = {
  controller: 'Balloon',
  entity: 'vm1',
  control: 'balloon_target',
  outcome: 'applied',
  old: 2048,
  new: 1024,
  reason: 'host short',
};
const unchanged: Outcome = { ...applied, control: 'x', outcome: 'unchanged' };

function lines(file: string): Array<Record<string, unknown>> {
  const text = file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString() : readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a cycle is one line after a header; samples are those new since the previous line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rec-'));
  const said: Said[] = [];
  const events = new EngineEvents();
  const rec = open(dir, said);
  rec.attach(events);
  const h1: Sample = { mem_free: 100 };
  const h2: Sample = { mem_free: 90 };
  const g1: Sample = { balloon_cur: 2048 };
  const g2: Sample = { balloon_cur: 1024 };
  events.emit('policy', { ok: true, files: ['a.policy'], sources: [], hash: 'abc', origin: 'files' });
  events.emit('evaluation', {
    ok: true,
    at: 10,
    controls: { host: {}, guests: { vm1: { balloon_target: 1024 } } },
  });
  events.emit('cycle', {
    status: 'done',
    outcomes: [applied, unchanged],
    snapshot: snapshot([h1], [g1]),
    at: 10,
    durationMs: 1.23456,
    dryRun: false,
  });
  events.emit('cycle', { status: 'skipped', reason: 'host not ready', at: 15, durationMs: 0, dryRun: false });
  events.emit('evaluation', { ok: false, at: 20, code: 'MOM_E_POLICY_EVAL', error: 'x.policy:1:1: boom' });
  events.emit('cycle', {
    status: 'policy-error',
    error: 'x.policy:1:1: boom',
    fallback: { failures: 1, since: null },
    outcomes: [],
    snapshot: snapshot([h1, h2], [g1, g2]),
    at: 20,
    durationMs: 2,
    dryRun: true,
  });
  await rec.close();
  const [header, c1, c2, c3, ...more] = lines(join(dir, CURRENT_FILE));
  assert.equal(more.length, 0);
  assert.deepEqual(header, {
    kind: 'header',
    format: 1,
    momd: '9.9.9',
    time: '2026-12-03T20:00:00.000Z',
    fields: { host: ['mem_free'], guest: ['balloon_cur'] },
    historyLength: 3,
  });
  assert.deepEqual(c1, {
    kind: 'cycle',
    time: '2026-12-03T20:00:00.000Z',
    at: 10,
    durationMs: 1.235,
    dryRun: false,
    policyHash: 'abc',
    status: 'done',
    detail: null,
    host: { properties: { interval: 10 }, samples: [h1], newHistory: true },
    guests: [{ properties: { name: 'vm1', uuid: 'u1', pid: 42 }, samples: [g1], newHistory: true }],
    controls: { host: {}, guests: { vm1: { balloon_target: 1024 } } },
    outcomes: [
      {
        controller: 'Balloon',
        entity: 'vm1',
        control: 'balloon_target',
        outcome: 'applied',
        old: 2048,
        new: 1024,
        reason: 'host short',
      },
    ],
  });
  assert.equal(c2?.['status'], 'skipped');
  assert.equal(c2?.['detail'], 'host not ready');
  assert.equal(c2?.['host'], null);
  // Only the sample added since the first line, and no controls: the policy failed.
  assert.equal(c3?.['status'], 'policy-error');
  assert.equal(c3?.['detail'], 'x.policy:1:1: boom');
  assert.equal(c3?.['controls'], null);
  assert.equal(c3?.['dryRun'], true);
  assert.deepEqual(c3?.['host'], { properties: { interval: 10 }, samples: [h2], newHistory: false });
  assert.deepEqual((c3?.['guests'] as unknown[])[0], {
    properties: { name: 'vm1', uuid: 'u1', pid: 42 },
    samples: [g2],
    newHistory: false,
  });
  assert.deepEqual(
    said.filter((s) => s.level === 'warn'),
    [],
  );
});

test('a file is rotated at its size and gzip-compressed, each file starts with a header, and the reader reads them all in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rec-'));
  const said: Said[] = [];
  const events = new EngineEvents();
  let clock = Date.parse('2026-12-03T20:00:00Z');
  const rec = open(dir, said, { maxBytes: 1500, maxFiles: 3, now: () => (clock += 1000) });
  rec.attach(events);
  let host: Sample[] = [];
  for (let i = 0; i < 20; i++) {
    host = [...host, { mem_free: i }].slice(-3);
    events.emit('evaluation', { ok: true, at: i, controls: { host: {}, guests: {} } });
    events.emit('cycle', {
      status: 'done',
      outcomes: [],
      snapshot: snapshot(host, []),
      at: i,
      durationMs: 1,
      dryRun: false,
    });
    // One cycle at a time, as the engine's are.
    await new Promise((r) => setTimeout(r, 5));
  }
  await rec.close();
  const names = readdirSync(dir).sort();
  const rotated = names.filter((n) => n.endsWith('.jsonl.gz'));
  // record-max-files: at most 3 rotated files are kept.
  assert.equal(rotated.length, 3, names.join(' '));
  assert.ok(names.includes(CURRENT_FILE));
  for (const n of [...rotated, CURRENT_FILE]) {
    const ls = lines(join(dir, n));
    // The current file is empty when the last line filled the one before.
    if (n === CURRENT_FILE && ls.length === 0) continue;
    assert.equal(ls[0]?.['kind'], 'header', n);
    assert.equal(ls.filter((l) => l['kind'] === 'header').length, 1, n);
  }
  const ats: number[] = [];
  for await (const e of readRecording(dir)) ats.push(e.cycle.at);
  // The oldest files were deleted; what is left is the newest cycles, in order, to the last one.
  assert.ok(ats.length > 5 && ats.length < 20, String(ats));
  assert.deepEqual(
    ats,
    Array.from({ length: ats.length }, (_, i) => 20 - ats.length + i),
  );
  assert.deepEqual(
    said.filter((s) => s.level === 'warn'),
    [],
  );
});

test('a recording that cannot be written is said once with its code and never throws; it is tried again later', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'momd-rec-'));
  const notADir = join(parent, 'file');
  writeFileSync(notADir, 'x');
  const said: Said[] = [];
  const events = new EngineEvents((event, err) => assert.fail(`listener of ${event} threw: ${String(err)}`));
  let clock = 0;
  const rec = open(join(notADir, 'rec'), said, { now: () => clock, retryMs: 1000 });
  rec.attach(events);
  for (let i = 0; i < 3; i++) {
    clock += 400;
    events.emit('cycle', {
      status: 'skipped',
      reason: 'host not ready',
      at: i,
      durationMs: 0,
      dryRun: false,
    });
  }
  await new Promise((r) => setTimeout(r, 50));
  const warnings = said.filter((s) => s.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(said));
  assert.equal(warnings[0]?.fields['code'], 'MOM_W_RECORD_WRITE');
  assert.match(warnings[0]?.message ?? '', /cannot write the recording in .*file\/rec: .*recording paused/);
  // The way is clear again: after the pause the next cycle is written, and that is said.
  rmSync(notADir);
  clock += 1000;
  events.emit('cycle', { status: 'skipped', reason: 'host not ready', at: 9, durationMs: 0, dryRun: false });
  await rec.close();
  const written = lines(join(notADir, 'rec', CURRENT_FILE));
  assert.deepEqual(
    written.map((l) => l['kind']),
    ['header', 'cycle'],
  );
  assert.match(said.at(-1)?.message ?? '', /resumed; 3 cycles were not recorded meanwhile/);
  assert.equal(said.filter((s) => s.level === 'warn').length, 1);
});

test('a last line cut short is removed before more lines are appended', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rec-'));
  const file = join(dir, 'f');
  writeFileSync(file, '{"a":1}\n{"b":');
  assert.equal(cutPartialLine(file), 5);
  assert.equal(readFileSync(file, 'utf8'), '{"a":1}\n');
  assert.equal(cutPartialLine(file), 0);
  assert.equal(cutPartialLine(join(dir, 'none')), 0);
  writeFileSync(file, 'no newline at all');
  assert.equal(cutPartialLine(file), 17);
  assert.equal(readFileSync(file, 'utf8'), '');
});
