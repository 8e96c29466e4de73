import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, REAL } from '../../../test/support/linux-fixtures.js';
import { NotAvailable } from './read.js';
import { readVmstat } from './vmstat.js';

test('pswpin, pswpout and pgmajfault from the host-basic fixture', async () => {
  assert.deepEqual(await readVmstat(fixture('host-basic').procRoot), {
    pswpin: 1234,
    pswpout: 5678,
    pgmajfault: 2352,
    zswpin: null,
    zswpout: null,
  });
});

test('zswpin and zswpout from the host-zswap fixture (a kernel with zswap)', async () => {
  const v = await readVmstat(fixture('host-zswap').procRoot);
  assert.equal(v.zswpin, 321);
  assert.equal(v.zswpout, 4321);
});

test('a missing /proc/vmstat is NotAvailable', async () => {
  await assert.rejects(readVmstat(fixture('host-cgroup-v2').sysRoot), NotAvailable);
});

test('this machine: the swap counters are present, cumulative and do not go backwards', async () => {
  const a = await readVmstat(REAL.procRoot);
  const b = await readVmstat(REAL.procRoot);
  assert.ok(a.pswpin !== null && a.pswpout !== null && a.pgmajfault !== null);
  assert.ok(b.pswpin !== null && b.pswpin >= a.pswpin && b.pswpout !== null && b.pswpout >= a.pswpout);
});
