import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { readMeminfo } from './meminfo.js';
import { CollectionError, KernelWriteError, NotAvailable } from './read.js';
import {
  explainZswapWriteError,
  readZswapParameters,
  writeZswap,
  ZSWAP_HINT,
  zswapDir,
  zswapReading,
} from './zswap.js';

const knob = async (sysRoot: string, file: string): Promise<string> =>
  (await readFile(join(zswapDir(sysRoot), file), 'utf8')).trim();

test('reads the knobs: Y/N as 1/0 and the pool limit in percent', async () => {
  assert.deepEqual(await readZswapParameters(fixture('host-basic').sysRoot), {
    enabled: 0,
    maxPoolPercent: 20,
  });
  assert.deepEqual(await readZswapParameters(fixture('host-zswap').sysRoot), {
    enabled: 1,
    maxPoolPercent: 10,
  });
});

test('a kernel without zswap (no /sys/module/zswap) is NotAvailable with the CONFIG_ZSWAP hint', async () => {
  await assert.rejects(readZswapParameters(fixture('host-no-ksm-no-psi').sysRoot), (err) => {
    assert.ok(err instanceof NotAvailable);
    assert.equal(err.hint, ZSWAP_HINT);
    return true;
  });
  await assert.rejects(writeZswap(fixture('host-no-ksm-no-psi').sysRoot, { enabled: 1 }), NotAvailable);
});

test('a malformed knob names the file and the text', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await writeFile(join(zswapDir(copy.sysRoot), 'enabled'), 'maybe\n');
    await assert.rejects(readZswapParameters(copy.sysRoot), (err) => {
      assert.ok(err instanceof CollectionError);
      assert.match(err.message, /zswap\/parameters\/enabled: expected Y or N \(read "maybe\\n"\)/);
      return true;
    });
    await writeFile(join(zswapDir(copy.sysRoot), 'enabled'), 'N\n');
    await writeFile(join(zswapDir(copy.sysRoot), 'max_pool_percent'), '-3\n');
    await assert.rejects(readZswapParameters(copy.sysRoot), /max_pool_percent: expected a percent/);
  } finally {
    await copy.remove();
  }
});

test('writes only the given knobs, enabled as Y or N', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await writeZswap(copy.sysRoot, { enabled: 1 });
    assert.deepEqual(
      [await knob(copy.sysRoot, 'enabled'), await knob(copy.sysRoot, 'max_pool_percent')],
      ['Y', '20'],
    );
    await writeZswap(copy.sysRoot, { maxPoolPercent: 25 });
    assert.deepEqual(await readZswapParameters(copy.sysRoot), { enabled: 1, maxPoolPercent: 25 });
    await writeZswap(copy.sysRoot, { enabled: 0, maxPoolPercent: 10 });
    assert.deepEqual(await readZswapParameters(copy.sysRoot), { enabled: 0, maxPoolPercent: 10 });
    await writeZswap(copy.sysRoot, {});
  } finally {
    await copy.remove();
  }
});

test('an invalid value is rejected before anything is written', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await assert.rejects(writeZswap(copy.sysRoot, { enabled: 1, maxPoolPercent: 101 }), RangeError);
    await assert.rejects(writeZswap(copy.sysRoot, { enabled: 2 }), /zswap enabled: invalid value 2/);
    await assert.rejects(writeZswap(copy.sysRoot, { maxPoolPercent: 12.5 }), RangeError);
    assert.deepEqual(await readZswapParameters(copy.sysRoot), { enabled: 0, maxPoolPercent: 20 });
  } finally {
    await copy.remove();
  }
});

test('turning zswap on writes the pool size first; turning it off writes enabled first', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = zswapDir(copy.sysRoot);
  try {
    // A directory in place of max_pool_percent makes its write fail (EISDIR): what came before it shows.
    await rm(join(dir, 'max_pool_percent'));
    await mkdir(join(dir, 'max_pool_percent'));
    await assert.rejects(writeZswap(copy.sysRoot, { enabled: 1, maxPoolPercent: 10 }), KernelWriteError);
    assert.equal(await knob(copy.sysRoot, 'enabled'), 'N', 'not turned on with the old pool size');
    await writeFile(join(dir, 'enabled'), 'Y\n');
    await assert.rejects(writeZswap(copy.sysRoot, { enabled: 0, maxPoolPercent: 10 }), KernelWriteError);
    assert.equal(await knob(copy.sysRoot, 'enabled'), 'N', 'turned off first');
  } finally {
    await copy.remove();
  }
});

test("the kernel's refusal to turn zswap on is explained", () => {
  assert.match(explainZswapWriteError('enabled', 'ENODEV') ?? '', /compressor or allocator/);
  assert.equal(explainZswapWriteError('max_pool_percent', 'EINVAL'), undefined);
});

test("the reading: the knobs, the pool's fill against max_pool_percent of MemTotal, what it holds", async () => {
  const z = fixture('host-zswap');
  const r = zswapReading(await readZswapParameters(z.sysRoot), await readMeminfo(z.procRoot));
  // 10% of MemTotal 24684084 KiB is 2468408.4 KiB; the pool takes 2300000 of it.
  assert.deepEqual(r, {
    zswap_enabled: 1,
    zswap_max_pool_percent: 10,
    zswap_pool_fill: Math.round((1000 * 2300000) / 2468408.4) / 10,
    zswap_compressed: 2300000,
    zswap_stored: 7340032,
  });
  assert.equal(r.zswap_pool_fill, 93.2);
});

test("a v2 host cgroup's own zswap numbers are what it holds; the fill stays the machine's", async () => {
  const z = fixture('host-zswap');
  const meminfo = await readMeminfo(z.procRoot);
  const r = zswapReading({ enabled: 1, maxPoolPercent: 10 }, meminfo, {
    zswapKib: 51200,
    zswappedKib: 153600,
  } as Parameters<typeof zswapReading>[2]);
  assert.deepEqual([r.zswap_compressed, r.zswap_stored, r.zswap_pool_fill], [51200, 153600, 93.2]);
  // A v1 cgroup (no such counters): the machine's stand in.
  const v1 = zswapReading({ enabled: 1, maxPoolPercent: 10 }, meminfo, {
    zswapKib: null,
    zswappedKib: null,
  } as Parameters<typeof zswapReading>[2]);
  assert.deepEqual([v1.zswap_compressed, v1.zswap_stored], [2300000, 7340032]);
});

test('a kernel before 5.19 (no Zswap lines) has nil sizes and fill; a pool allowed nothing is full', async () => {
  const meminfo = await readMeminfo(fixture('host-zswap').procRoot);
  const old = zswapReading({ enabled: 1, maxPoolPercent: 20 }, { ...meminfo, zswap: null, zswapped: null });
  assert.deepEqual([old.zswap_pool_fill, old.zswap_compressed, old.zswap_stored], [null, null, null]);
  assert.equal(zswapReading({ enabled: 1, maxPoolPercent: 0 }, meminfo).zswap_pool_fill, 100);
});

test('this machine: zswap readable when built in, its knobs in range (nothing is written)', async (t) => {
  let p;
  try {
    p = await readZswapParameters(REAL.sysRoot);
  } catch (err) {
    if (!(err instanceof NotAvailable)) throw err;
    t.skip(`no zswap on this machine: ${err.message}`);
    return;
  }
  assert.ok(p.enabled === 0 || p.enabled === 1);
  assert.ok(p.maxPoolPercent >= 0 && p.maxPoolPercent <= 100);
  const m = await readMeminfo(REAL.procRoot);
  assert.ok(m.zswap === null || (m.zswap >= 0 && (m.zswapped ?? 0) >= 0));
});
