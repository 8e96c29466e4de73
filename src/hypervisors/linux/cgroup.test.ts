import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cgroupHostMemory,
  cgroupOfPid,
  detectCgroupVersion,
  memoryCgroupDir,
  parseProcCgroup,
  readCgroupMemory,
  readMemoryLimit,
  resolveCgroupDir,
  setMemoryLimit,
} from './cgroup.js';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { readMeminfo } from './meminfo.js';
import { CollectionError, NotAvailable, ProcessGone } from './read.js';

const V2_SCOPE = 'machine.slice/machine-qemu\\x2d1\\x2dvm01.scope';

test('/proc/<pid>/cgroup: the v1 memory line wins over the v2 line; else the 0:: line', () => {
  const hybrid = '5:devices:/\n4:memory:/machine/vm01\n1:cpu,cpuacct:/\n0::/\n';
  assert.deepEqual(parseProcCgroup(hybrid, 'p'), { version: 1, path: '/machine/vm01' });
  assert.deepEqual(parseProcCgroup('0::/machine.slice/x.scope\n', 'p'), {
    version: 2,
    path: '/machine.slice/x.scope',
  });
  assert.deepEqual(parseProcCgroup('0::/gone (deleted)\n', 'p'), { version: 2, path: '/gone' });
  assert.deepEqual(parseProcCgroup('3:cpu:/\n', 'p'), null);
  assert.throws(() => parseProcCgroup('memory:/x\n', '/proc/7/cgroup'), CollectionError);
});

test('cgroupOfPid and memoryCgroupDir on the fixtures; an exited process is ProcessGone', async () => {
  const v1 = fixture('host-cgroup-v1');
  const m1 = await cgroupOfPid(v1.procRoot, 26405);
  assert.deepEqual(m1, { version: 1, path: '/momtest' });
  assert.equal(memoryCgroupDir(v1.cgroupRoot, m1), join(v1.cgroupRoot, 'memory', 'momtest'));
  const v2 = fixture('host-cgroup-v2');
  const m2 = await cgroupOfPid(v2.procRoot, 7001);
  assert.ok(m2 !== null);
  assert.equal(memoryCgroupDir(v2.cgroupRoot, m2), join(v2.cgroupRoot, V2_SCOPE));
  await assert.rejects(cgroupOfPid(v2.procRoot, 424242), ProcessGone);
});

test('a cgroup is named by a path under cgroupRoot or by its full path', () => {
  assert.equal(resolveCgroupDir('/sys/fs/cgroup', '/memory/momtest'), '/sys/fs/cgroup/memory/momtest');
  assert.equal(
    resolveCgroupDir('/sys/fs/cgroup', '/sys/fs/cgroup/memory/momtest'),
    '/sys/fs/cgroup/memory/momtest',
  );
  assert.equal(resolveCgroupDir('/sys/fs/cgroup/', 'memory/momtest'), '/sys/fs/cgroup/memory/momtest');
});

test('v1: limit, usage, cache, anon and swap in KiB (the real files of a QEMU cgroup)', async () => {
  const dir = join(fixture('host-cgroup-v1').cgroupRoot, 'memory', 'momtest');
  assert.equal(await detectCgroupVersion(dir), 1);
  assert.deepEqual(await readCgroupMemory(dir), {
    version: 1,
    dir,
    limitKib: 524288,
    highKib: null,
    effectiveLimitKib: 524288,
    usageKib: 45112,
    cacheKib: 29712,
    anonKib: 14860,
    inactiveFileKib: 27616,
    swapUsageKib: 0,
    swapLimitKib: null,
    swapInPages: null,
    swapOutPages: null,
    zswapKib: null,
    zswappedKib: null,
  });
});

test('v2: memory.max/high/current/stat and swap, and the tightest ancestor limit', async () => {
  const copy = await fixtureCopy('host-cgroup-v2');
  try {
    const dir = join(copy.cgroupRoot, V2_SCOPE);
    assert.equal(await detectCgroupVersion(dir), 2);
    const cg = await readCgroupMemory(dir, { cgroupRoot: copy.cgroupRoot });
    assert.deepEqual(cg, {
      version: 2,
      dir,
      limitKib: 1048576,
      highKib: 1048576,
      effectiveLimitKib: 1048576,
      usageKib: 425984,
      cacheKib: 102400,
      anonKib: 307200,
      inactiveFileKib: 71680,
      swapUsageKib: 20480,
      swapLimitKib: null,
      swapInPages: 12,
      swapOutPages: 5120,
      zswapKib: 51200,
      zswappedKib: 153600,
    });
    await writeFile(join(copy.cgroupRoot, 'machine.slice', 'memory.max'), '805306368\n');
    assert.equal((await readCgroupMemory(dir, { cgroupRoot: copy.cgroupRoot })).effectiveLimitKib, 786432);
  } finally {
    await copy.remove();
  }
});

test('host memory from a cgroup: total = limit (MemTotal when none), free = limit - usage', async () => {
  const v1 = fixture('host-cgroup-v1');
  const machine = await readMeminfo(v1.procRoot);
  const cg = await readCgroupMemory(join(v1.cgroupRoot, 'memory', 'momtest'));
  assert.deepEqual(cgroupHostMemory(cg, machine), {
    total: 524288,
    free: 524288 - 45112,
    cached: 29712,
    available: 524288 - 45112 + 27616,
    anon: 14860,
    swapTotal: 0,
    swapFree: 0,
  });
  const unlimited = cgroupHostMemory({ ...cg, effectiveLimitKib: null }, machine);
  assert.equal(unlimited.total, machine.memTotal);
  assert.equal(unlimited.available, machine.memTotal - 45112 + 27616);
  assert.equal(
    cgroupHostMemory({ ...cg, usageKib: 0, effectiveLimitKib: 1000 }, machine).available,
    1000,
    'never above total',
  );
  const withSwap = cgroupHostMemory(
    { ...cg, swapUsageKib: 1000, swapLimitKib: 4096 },
    { ...machine, swapTotal: 1048576, swapFree: 1000000 },
  );
  assert.deepEqual([withSwap.swapTotal, withSwap.swapFree], [4096, 3096]);
});

test('not a memory cgroup is NotAvailable', async () => {
  await assert.rejects(readCgroupMemory(fixture('host-cgroup-v1').cgroupRoot), NotAvailable);
  await assert.rejects(setMemoryLimit(join(fixture('host-basic').root, 'nowhere'), 1024), NotAvailable);
});

test('v1 setMemoryLimit writes bytes, and -1 for none; readMemoryLimit reads it back in KiB', async () => {
  const copy = await fixtureCopy('host-cgroup-v1');
  try {
    const dir = join(copy.cgroupRoot, 'memory', 'momtest');
    await setMemoryLimit(dir, 262144);
    assert.equal(await readFile(join(dir, 'memory.limit_in_bytes'), 'utf8'), '268435456');
    assert.deepEqual(await readMemoryLimit(dir), { version: 1, limitKib: 262144 });
    await setMemoryLimit(dir, null);
    assert.equal(await readFile(join(dir, 'memory.limit_in_bytes'), 'utf8'), '-1');
    assert.deepEqual(await readMemoryLimit(dir), { version: 1, limitKib: null });
    await writeFile(join(dir, 'memory.limit_in_bytes'), '9223372036854771712\n');
    assert.deepEqual(await readMemoryLimit(dir), { version: 1, limitKib: null });
    for (const bad of [0, -5, 1.5, Number.NaN]) await assert.rejects(setMemoryLimit(dir, bad), RangeError);
  } finally {
    await copy.remove();
  }
});

test("v2 setMemoryLimit writes memory.high and memory.max, 'max' for none", async () => {
  const copy = await fixtureCopy('host-cgroup-v2');
  try {
    const dir = join(copy.cgroupRoot, V2_SCOPE);
    await setMemoryLimit(dir, 524288);
    assert.equal(await readFile(join(dir, 'memory.max'), 'utf8'), '536870912');
    assert.equal(await readFile(join(dir, 'memory.high'), 'utf8'), '536870912');
    assert.deepEqual(await readMemoryLimit(dir), { version: 2, limitKib: 524288, highKib: 524288 });
    await setMemoryLimit(dir, null);
    assert.deepEqual(await readMemoryLimit(dir), { version: 2, limitKib: null, highKib: null });
  } finally {
    await copy.remove();
  }
});

test('this machine: our own memory cgroup reads with usage > 0 (nothing is written)', async (t) => {
  const m = await cgroupOfPid(REAL.procRoot, 'self');
  if (m === null) return t.skip('no memory controller on this machine');
  const dir = memoryCgroupDir(REAL.cgroupRoot, m);
  const cg = await readCgroupMemory(dir, { cgroupRoot: REAL.cgroupRoot });
  assert.ok(cg.usageKib > 0, `usage ${cg.usageKib}`);
  assert.ok(cg.cacheKib >= 0 && cg.anonKib >= 0 && cg.inactiveFileKib >= 0);
  const machine = await readMeminfo(REAL.procRoot);
  const host = cgroupHostMemory(cg, machine);
  assert.ok(host.total > 0 && host.total <= machine.memTotal && host.free >= 0 && host.free <= host.total);
});
