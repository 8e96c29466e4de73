import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HypervisorError } from '../hypervisor.js';
import { cpuCgroupDir, locateCpuCgroups, parseCpuCgroup, readCpuLimit, writeCpuLimit } from './cpu-cgroup.js';

test('the CPU cgroup of a process: the v1 line with cpu (a hybrid host too), else the v2 line', () => {
  // This project's machines: cpu and cpuacct mounted apart, a v2 mount without controllers.
  const hybrid = '9:name=systemd:/\n2:cpuacct:/\n1:cpu:/momd-testbed/vm1\n0::/\n';
  const v1 = parseCpuCgroup(hybrid, 'cgroup');
  assert.deepEqual(v1, { version: 1, controllers: 'cpu', path: '/momd-testbed/vm1' });
  assert.equal(cpuCgroupDir('/sys/fs/cgroup', v1), '/sys/fs/cgroup/cpu/momd-testbed/vm1');
  const joined = parseCpuCgroup('4:cpu,cpuacct:/machine.slice/x.scope\n', 'cgroup');
  assert.equal(
    joined && cpuCgroupDir('/sys/fs/cgroup', joined),
    '/sys/fs/cgroup/cpu,cpuacct/machine.slice/x.scope',
  );
  const v2 = parseCpuCgroup('0::/qemu.slice/100.scope\n', 'cgroup');
  assert.deepEqual(v2, { version: 2, controllers: '', path: '/qemu.slice/100.scope' });
  assert.equal(v2 && cpuCgroupDir('/sys/fs/cgroup', v2), '/sys/fs/cgroup/qemu.slice/100.scope');
  assert.equal(parseCpuCgroup('', 'cgroup'), null);
  assert.throws(() => parseCpuCgroup('garbage\n', '/proc/1/cgroup'), /\/proc\/1\/cgroup/);
});

test('v1 and v2 limits are read and written; no limit is null (v1 -1, v2 max)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'momd-cpu-cgroup-'));
  try {
    await writeFile(join(dir, 'cpu.cfs_quota_us'), '-1\n');
    await writeFile(join(dir, 'cpu.cfs_period_us'), '100000\n');
    assert.deepEqual(await readCpuLimit(dir, 1), { quotaUs: null, periodUs: 100000 });
    await writeCpuLimit(dir, 1, { quotaUs: 150000, periodUs: 50000 });
    assert.equal(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8'), '150000');
    assert.deepEqual(await readCpuLimit(dir, 1), { quotaUs: 150000, periodUs: 50000 });
    await writeCpuLimit(dir, 1, { quotaUs: null, periodUs: 50000 });
    assert.equal(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8'), '-1');

    await writeFile(join(dir, 'cpu.max'), 'max 100000\n');
    assert.deepEqual(await readCpuLimit(dir, 2), { quotaUs: null, periodUs: 100000 });
    await writeCpuLimit(dir, 2, { quotaUs: 20000, periodUs: 100000 });
    assert.equal(await readFile(join(dir, 'cpu.max'), 'utf8'), '20000 100000');
    assert.deepEqual(await readCpuLimit(dir, 2), { quotaUs: 20000, periodUs: 100000 });
    await writeFile(join(dir, 'cpu.max'), 'lots\n');
    await assert.rejects(readCpuLimit(dir, 2), /cpu\.max: expected "QUOTA PERIOD"/);
    await assert.rejects(readCpuLimit(join(dir, 'absent'), 1), { code: 'MOM_E_NOT_AVAILABLE' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a guest can be limited only in a CPU cgroup of its own: not the root, not momd's, not shared", async () => {
  const proc = await mkdtemp(join(tmpdir(), 'momd-cpu-proc-'));
  const cg = (pid: number | string, path: string): Promise<void> =>
    mkdir(join(proc, String(pid)), { recursive: true }).then(() =>
      writeFile(join(proc, String(pid), 'cgroup'), `1:cpu:${path}\n0::/\n`),
    );
  try {
    await cg('self', '/momd');
    await cg(10, '/vm/a');
    await cg(11, '/');
    await cg(12, '/momd');
    await cg(13, '/vm/shared');
    await cg(14, '/vm/shared');
    const found = await locateCpuCgroups(proc, '/sys/fs/cgroup', [
      { id: 'a', pid: 10 },
      { id: 'root', pid: 11 },
      { id: 'ours', pid: 12 },
      { id: 's1', pid: 13 },
      { id: 's2', pid: 14 },
      { id: 'nopid', pid: null },
      { id: 'gone', pid: 99 },
    ]);
    assert.deepEqual(found.get('a'), { dir: '/sys/fs/cgroup/cpu/vm/a', version: 1 });
    const why = (id: string): string => {
      const v = found.get(id);
      assert.ok(v instanceof HypervisorError, id);
      return `${v.code}: ${v.message}`;
    };
    assert.match(why('root'), /^MOM_E_UNSUPPORTED: .*root CPU cgroup/);
    assert.match(why('ours'), /^MOM_E_UNSUPPORTED: .*momd's own/);
    assert.match(why('s1'), /^MOM_E_UNSUPPORTED: .*shared/);
    assert.match(why('s2'), /shared/);
    assert.match(why('nopid'), /^MOM_E_UNSUPPORTED: its QEMU process is not known/);
    assert.match(why('gone'), /^MOM_E_GUEST_GONE/);
  } finally {
    await rm(proc, { recursive: true, force: true });
  }
});
