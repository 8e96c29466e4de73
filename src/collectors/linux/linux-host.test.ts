import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy } from './fixtures.js';
import { ksmDir } from './ksm.js';
import { createLinuxHost } from './linux-host.js';

test('host-basic: memory from meminfo + vmstat + the CPU count', async () => {
  const host = createLinuxHost(fixture('host-basic'));
  assert.equal(host.name, 'linux');
  assert.deepEqual(await host.memory(), {
    total: 24684084,
    free: 23885064,
    cached: 10368 + 466644,
    available: 24194376,
    anon: 34320,
    swapTotal: 0,
    swapFree: 0,
    swapInPages: 1234,
    swapOutPages: 5678,
    cpuCount: 2,
  });
  assert.deepEqual(await host.extraMemory(), {
    mem_total: 24684084,
    mem_avail: 24194376,
    mem_cached: 477012,
  });
});

test('host-basic: KSM, pressure, ksm_shareable and ksmd', async () => {
  const host = createLinuxHost(fixture('host-basic'));
  const ksm = await host.ksm();
  assert.equal(ksm?.run, 1);
  assert.equal(ksm?.pagesSharing, 9000);
  assert.deepEqual(await host.pressure().then((p) => [p?.some10, p?.full10]), [1.25, 0.5]);
  assert.equal(await host.ksmShareable(), 1100000);
  assert.equal(await host.ksmdCpuUsage(), null, 'the first reading has nothing to compare with');
  assert.equal(await host.ksmdCpuUsage(), 0);
});

test('a kernel without KSM and PSI: nulls, not errors; MemAvailable null; CPUs from cpuinfo', async () => {
  const host = createLinuxHost(fixture('host-no-ksm-no-psi'));
  assert.equal(await host.ksm(), null);
  assert.equal(await host.pressure(), null);
  assert.equal(await host.ksmdCpuUsage(), null);
  assert.equal(await host.ksmShareable(), 0);
  const m = await host.memory();
  assert.equal(m.available, null);
  assert.equal(m.cpuCount, 4);
  await assert.rejects(host.setKsm({ run: 1 }), /KSM not in this kernel/);
  await host.restoreKsm();
});

test('setKsm writes only the given knobs; restoreKsm puts back what was first read', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = ksmDir(copy.sysRoot);
  const knob = async (f: string): Promise<string> => (await readFile(join(dir, f), 'utf8')).trim();
  try {
    const host = createLinuxHost(copy);
    await host.restoreKsm(); // nothing read yet: nothing to restore
    assert.equal(await knob('run'), '1');
    await host.setKsm({ run: 0, pagesToScan: 1000 });
    assert.deepEqual(
      [await knob('run'), await knob('pages_to_scan'), await knob('sleep_millisecs')],
      ['0', '1000', '50'],
    );
    await host.setKsm({ sleepMillisecs: 5 });
    await host.restoreKsm();
    assert.deepEqual(
      [await knob('run'), await knob('pages_to_scan'), await knob('sleep_millisecs')],
      ['1', '64', '50'],
    );
  } finally {
    await copy.remove();
  }
});

test('restoring merge_across_nodes while pages are merged unmerges first (run=2), then restores run', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = ksmDir(copy.sysRoot);
  try {
    const host = createLinuxHost(copy);
    await host.ksm(); // run=1, merge_across_nodes=1, pages_shared=1500
    await writeFile(join(dir, 'merge_across_nodes'), '0\n');
    await host.restoreKsm();
    assert.equal((await readFile(join(dir, 'merge_across_nodes'), 'utf8')).trim(), '1');
    assert.equal((await readFile(join(dir, 'run'), 'utf8')).trim(), '1');
  } finally {
    await copy.remove();
  }
});

test('host-memory-source: a v1 cgroup stands in for the RAM', async () => {
  const v1 = fixture('host-cgroup-v1');
  const host = createLinuxHost({ ...v1, memorySource: { cgroup: '/memory/momtest' } });
  const m = await host.memory();
  assert.deepEqual(
    { total: m.total, free: m.free, cached: m.cached, available: m.available, anon: m.anon },
    { total: 524288, free: 524288 - 45112, cached: 29712, available: 524288 - 45112 + 27616, anon: 14860 },
  );
  assert.deepEqual(
    [m.swapInPages, m.swapOutPages],
    [1234, 5678],
    "v1 has no per-cgroup swap counters: the machine's",
  );
  assert.deepEqual(await host.extraMemory(), {
    mem_total: 524288,
    mem_avail: 524288 - 45112 + 27616,
    mem_cached: 29712,
  });
});

test('host-memory-source: a v2 cgroup, by its full path, with its own swap counters', async () => {
  const v2 = fixture('host-cgroup-v2');
  const cgroup = join(v2.cgroupRoot, 'machine.slice', 'machine-qemu\\x2d1\\x2dvm01.scope');
  const m = await createLinuxHost({ ...v2, memorySource: { cgroup } }).memory();
  assert.deepEqual(
    [m.total, m.free, m.cached, m.anon, m.swapInPages, m.swapOutPages],
    [1048576, 1048576 - 425984, 102400, 307200, 12, 5120],
  );
  await assert.rejects(
    createLinuxHost({ ...v2, memorySource: { cgroup: '/nope' } }).memory(),
    /not a memory cgroup/,
  );
});

test('this machine: memory invariants, KSM and PSI present, ksmd measurable (nothing is written)', async () => {
  const host = createLinuxHost();
  const m = await host.memory();
  assert.ok(m.total > m.free && m.free > 0);
  assert.ok(m.available !== null && m.available > 0 && m.available <= m.total);
  assert.ok(m.cached >= 0 && m.anon > 0 && m.swapFree <= m.swapTotal && m.cpuCount >= 1);
  assert.ok(m.swapInPages >= 0 && m.swapOutPages >= 0);
  assert.notEqual(await host.ksm(), null);
  const p = await host.pressure();
  assert.ok(p !== null && p.some10 >= 0 && p.full10 >= 0);
  assert.ok((await host.ksmShareable()) >= 0);
  assert.equal(await host.ksmdCpuUsage(), null);
  const pct = await host.ksmdCpuUsage();
  assert.ok(pct !== null && pct >= 0);
  const extra = await host.extraMemory();
  assert.ok(extra.mem_total === m.total && extra.mem_cached >= 0);
});
