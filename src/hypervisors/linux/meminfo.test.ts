import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { readMeminfo } from './meminfo.js';
import { CollectionError, NotAvailable } from './read.js';

test('meminfo fields in KiB from the host-basic fixture', async () => {
  const m = await readMeminfo(fixture('host-basic').procRoot);
  assert.deepEqual(m, {
    memTotal: 24684084,
    memFree: 23885064,
    memAvailable: 24194376,
    buffers: 10368,
    cached: 466644,
    swapCached: 0,
    anonPages: 34320,
    shmem: 8872,
    swapTotal: 0,
    swapFree: 0,
    zswap: 0,
    zswapped: 0,
  });
});

test('a kernel without MemAvailable (before 3.14) gives null, not an error', async () => {
  const m = await readMeminfo(fixture('host-no-ksm-no-psi').procRoot);
  assert.equal(m.memAvailable, null);
  assert.equal(m.memTotal, 24684084);
});

test('a malformed value names the file and the line; a missing file is NotAvailable', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await writeFile(join(copy.procRoot, 'meminfo'), 'MemTotal:       lots kB\nMemFree: 1 kB\n');
    await assert.rejects(readMeminfo(copy.procRoot), (err) => {
      assert.ok(err instanceof CollectionError);
      assert.match(err.message, /meminfo: expected an integer \(read "MemTotal lots kB"\)/);
      return true;
    });
    await assert.rejects(readMeminfo(join(copy.root, 'nowhere')), NotAvailable);
  } finally {
    await copy.remove();
  }
});

test('this machine: total > available > 0, total > free > 0, cache and anon >= 0', async () => {
  const m = await readMeminfo(REAL.procRoot);
  assert.ok(m.memTotal > m.memFree && m.memFree > 0, `MemTotal ${m.memTotal} MemFree ${m.memFree}`);
  assert.ok(m.memAvailable !== null && m.memAvailable > 0 && m.memAvailable <= m.memTotal);
  assert.ok(m.cached >= 0 && m.buffers >= 0 && m.anonPages > 0);
  assert.ok(m.swapFree <= m.swapTotal);
});
