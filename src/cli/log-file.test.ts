import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { ResilientLogFile, rotatingLogFile } from './log-file.js';

async function writeLines(stream: NonNullable<ReturnType<typeof rotatingLogFile>>, lines: string[]) {
  for (const l of lines) {
    if (!stream.write(l)) await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => stream.end(resolve));
}

test("rotates MOM's way: the live file at its path, LOG.1 the newest old one, at most backup-count kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-log-'));
  try {
    const path = join(dir, 'momd.log');
    const stream = rotatingLogFile(path, { maxBytes: 100, backupCount: 2 });
    assert.ok(stream);
    // 17 lines of 25 bytes: a file passes 100 bytes at its 5th line and is rotated then.
    const lines = Array.from(
      { length: 17 },
      (_, i) => `line ${String(i).padStart(2, '0')} ${'x'.repeat(15)}\n`,
    );
    await writeLines(stream, lines);
    assert.deepEqual(readdirSync(dir).sort(), ['momd.log', 'momd.log.1', 'momd.log.2']);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    assert.equal(read('momd.log'), lines.slice(15).join(''), 'the live file: the newest lines');
    assert.equal(read('momd.log.1'), lines.slice(10, 15).join(''), '.1: the newest rotated');
    assert.equal(read('momd.log.2'), lines.slice(5, 10).join(''), '.2: older');
    // Lines 0-4 were in a third old file, deleted: backup-count is 2.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('max-bytes 0 or backup-count 0: never rotated, as in Python', () => {
  assert.equal(rotatingLogFile('/tmp/x.log', { maxBytes: 0, backupCount: 5 }), null);
  assert.equal(rotatingLogFile('/tmp/x.log', { maxBytes: 1000, backupCount: 0 }), null);
});

test('ResilientLogFile: a file that fails is said once, its lines dropped and counted, and it is opened again after 10 s', async () => {
  let now = 0;
  const reports: string[] = [];
  const written: string[] = [];
  let failing = true;
  let opened = 0;
  const open = (): Writable => {
    opened++;
    return new Writable({
      write(chunk: Buffer, _enc, done) {
        if (failing)
          return done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
        written.push(chunk.toString());
        done();
      },
    });
  };
  const file = new ResilientLogFile(
    '/var/log/momd.log',
    open,
    (m) => reports.push(m),
    () => now,
  );
  const tick = () => new Promise((r) => setImmediate(r));
  file.write('one\n');
  await tick();
  for (const l of ['two\n', 'three\n']) file.write(l);
  await tick();
  assert.deepEqual(reports, [
    'momd: cannot write the log /var/log/momd.log: ENOSPC: no space left on device, write; its lines are dropped until it can be written again (tried every 10 s)',
  ]);
  now = 5_000;
  file.write('four\n');
  await tick();
  assert.equal(opened, 1, 'not tried again before 10 s');
  failing = false;
  now = 12_000;
  file.write('five\n');
  await tick();
  assert.equal(opened, 2);
  assert.deepEqual(written, ['five\n']);
  assert.equal(
    reports[1],
    'momd: the log /var/log/momd.log is written again; 3 lines were dropped meanwhile',
  );
  file.write('six\n');
  await new Promise<void>((r) => file.end(() => r()));
  assert.deepEqual(written, ['five\n', 'six\n']);
  assert.equal(reports.length, 2);
});
