import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileRecord } from './pause-record.js';

test('the note as a file: none at first, written (its folder made), read back, removed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-pause-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'run', 'contention-paused.json');
  const r = fileRecord(file);
  assert.equal(r.load(), null);
  r.save({ id: 'uuid-1', name: 'web1' });
  assert.deepEqual(fileRecord(file).load(), { id: 'uuid-1', name: 'web1' }, 'what a later momd reads');
  r.clear();
  assert.equal(existsSync(file), false);
  r.clear(); // no note is fine
});

test('a note that is not one is an error naming the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-pause-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'contention-paused.json');
  writeFileSync(file, '{"id": 7}\n');
  assert.throws(() => fileRecord(file).load(), new RegExp(`^Error: ${file}: expected \\{"id"`));
  writeFileSync(file, 'garbage');
  assert.throws(() => fileRecord(file).load(), SyntaxError);
});
