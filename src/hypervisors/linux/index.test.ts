import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy } from '../../../test/support/linux-fixtures.js';
import type { HostGroup } from '../../fields/catalogue.js';
import { ksmDir } from './ksm.js';
import { createLinuxHost } from './index.js';
import { zswapDir } from './zswap.js';

const ALL = new Set<HostGroup>(['HostMemory', 'HostKSM', 'HostPressure', 'HostCpu']);
const MEMORY = new Set<HostGroup>(['HostMemory']);

test('host-basic: memory from meminfo + vmstat, under the catalogue names', async () => {
  const host = createLinuxHost(fixture('host-basic'));
  assert.equal(host.name, 'linux');
  assert.deepEqual(await host.read(MEMORY), {
    mem_available: 24684084,
    mem_unused: 23885064,
    mem_free: 23885064 + 10368 + 466644,
    swap_in: 1234,
    swap_out: 5678,
    anon_pages: 34320,
    swap_total: 0,
    swap_usage: 0,
    mem_total: 24684084,
    mem_cached: 10368 + 466644,
    mem_avail: 24194376,
    zswap_enabled: 0,
    zswap_max_pool_percent: 20,
    zswap_pool_fill: 0,
    zswap_compressed: 0,
    zswap_stored: 0,
  });
});

test('HostCpu: the online CPUs; HostTime: the local calendar of the wall clock, read at each sample', async () => {
  let now = new Date(2026, 11, 31, 23, 59, 58, 250).getTime();
  const host = createLinuxHost({ ...fixture('host-basic'), wallClock: () => now });
  assert.deepEqual(await host.read(new Set<HostGroup>(['HostCpu'])), { cpu_count: 2 });
  assert.deepEqual(await host.read(new Set<HostGroup>(['HostTime'])), {
    time_year: 2026,
    time_month: 12,
    time_day: 31,
    time_hour: 23,
    time_minute: 59,
    time_second: 58,
    time_microsecond: 250000,
  });
  now += 2000; // across midnight and the new year
  const r = await host.read(new Set<HostGroup>(['HostTime', 'HostCpu']));
  assert.deepEqual(
    [r.time_year, r.time_month, r.time_day, r.time_hour, r.time_minute, r.time_second, r.cpu_count],
    [2027, 1, 1, 0, 0, 0, 2],
  );
  assert.equal((await createLinuxHost(fixture('host-no-ksm-no-psi')).read(ALL)).cpu_count, 4, 'from cpuinfo');
});

test('HostTime on this machine: the calendar of Date, to the second', async () => {
  const before = new Date();
  const r = await createLinuxHost().read(new Set<HostGroup>(['HostTime']));
  const at = new Date(
    r.time_year ?? 0,
    (r.time_month ?? 0) - 1,
    r.time_day ?? 0,
    r.time_hour ?? 0,
    r.time_minute ?? 0,
    r.time_second ?? 0,
    Math.floor((r.time_microsecond ?? 0) / 1000),
  );
  assert.ok(at.getTime() >= before.getTime() && at.getTime() - before.getTime() < 5000, at.toString());
});

test('host-basic: KSM, pressure, ksm_shareable and ksmd; every capability present', async () => {
  const host = createLinuxHost(fixture('host-basic'));
  const probe = await host.probe();
  assert.deepEqual([...probe.capabilities].sort(), ['ksm', 'ksmd-cpu', 'psi', 'zswap']);
  assert.match(probe.missing.get('cgroup-limits') ?? '', /no memory controller/);
  const r = await host.read(ALL);
  assert.equal(r.ksm_run, 1);
  assert.equal(r.ksm_pages_sharing, 9000);
  assert.deepEqual([r.psi_some_avg10, r.psi_full_avg10], [1.25, 0.5]);
  assert.equal(r.ksm_shareable, 1100000);
  assert.equal(r.ksmd_cpu_usage, 0, 'the probe took the first ksmd reading');
});

test('a kernel without KSM and PSI: fields left out, capabilities missing with the fix, not errors', async () => {
  const host = createLinuxHost(fixture('host-no-ksm-no-psi'));
  const probe = await host.probe();
  assert.deepEqual([...probe.capabilities], []);
  assert.match(probe.missing.get('ksm') ?? '', /kernel\/mm\/ksm: KSM not in this kernel \(CONFIG_KSM\)/);
  assert.match(probe.missing.get('psi') ?? '', /boot with psi=1/);
  const r = await host.read(ALL);
  assert.equal(r.ksm_run, undefined);
  assert.equal(r.psi_some_avg10, undefined);
  assert.equal(r.ksmd_cpu_usage, null);
  assert.equal(r.ksm_shareable, 0);
  assert.equal(r.mem_avail, null);
  assert.equal(r.cpu_count, 4);
  assert.match(
    probe.missing.get('zswap') ?? '',
    /module\/zswap\/parameters: zswap not in this kernel \(CONFIG_ZSWAP\)/,
  );
  for (const k of ['zswap_enabled', 'zswap_max_pool_percent', 'zswap_compressed'] as const)
    assert.equal(r[k], undefined, `${k}: nil, though meminfo has Zswap lines`);
  await assert.rejects(host.setZswap({ enabled: 1 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'MOM_E_UNSUPPORTED');
    assert.match(err.message, /CONFIG_ZSWAP/);
    return true;
  });
  assert.deepEqual(await host.restoreZswap(), {});
  await assert.rejects(host.setKsm({ run: 1 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'MOM_E_UNSUPPORTED');
    assert.match(err.message, /KSM not in this kernel/);
    return true;
  });
  await host.close({ restore: true });
});

test('setKsm writes only the given knobs; close with restore puts back what was first read', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = ksmDir(copy.sysRoot);
  const knob = async (f: string): Promise<string> => (await readFile(join(dir, f), 'utf8')).trim();
  try {
    const untouched = createLinuxHost(copy);
    await untouched.close({ restore: true }); // nothing read yet: nothing to restore
    assert.equal(await knob('run'), '1');
    const host = createLinuxHost(copy);
    await host.setKsm({ run: 0, pagesToScan: 1000 });
    assert.deepEqual(
      [await knob('run'), await knob('pages_to_scan'), await knob('sleep_millisecs')],
      ['0', '1000', '50'],
    );
    await host.setKsm({ sleepMillisecs: 5 });
    await assert.rejects(host.setKsm({ run: 7 }), /MOM_E_INVALID_ARGUMENT|invalid value 7/);
    // A reload: the next host gets the baseline, so it restores the original, not momd's settings.
    const next = createLinuxHost({ ...copy, ksmBaseline: host.ksmBaseline() });
    await host.close({ restore: false });
    assert.equal(await knob('run'), '0');
    await next.close({ restore: true });
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
    await host.read(ALL); // run=1, merge_across_nodes=1, pages_shared=1500
    await writeFile(join(dir, 'merge_across_nodes'), '0\n');
    await host.close({ restore: true });
    assert.equal((await readFile(join(dir, 'merge_across_nodes'), 'utf8')).trim(), '1');
    assert.equal((await readFile(join(dir, 'run'), 'utf8')).trim(), '1');
  } finally {
    await copy.remove();
  }
});

test('host-zswap: zswap on and its pool nearly full, as HostMemory fields', async () => {
  const host = createLinuxHost(fixture('host-zswap'));
  assert.ok((await host.probe()).capabilities.has('zswap'));
  const m = await host.read(MEMORY);
  assert.deepEqual(
    [m.zswap_enabled, m.zswap_max_pool_percent, m.zswap_pool_fill, m.zswap_compressed, m.zswap_stored],
    [1, 10, 93.2, 2300000, 7340032],
  );
  assert.equal(m.swap_usage, 8388604 - 6291452);
});

test('setZswap writes only the given knobs; restoreZswap puts back what was found at start, once', async () => {
  const copy = await fixtureCopy('host-basic');
  const knob = async (f: string): Promise<string> =>
    (await readFile(join(zswapDir(copy.sysRoot), f), 'utf8')).trim();
  try {
    const host = createLinuxHost(copy);
    await host.probe(); // at start: N, 20
    await host.setZswap({ enabled: 1, maxPoolPercent: 10 });
    assert.deepEqual([await knob('enabled'), await knob('max_pool_percent')], ['Y', '10']);
    await assert.rejects(host.setZswap({ maxPoolPercent: 300 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'MOM_E_INVALID_ARGUMENT');
      return true;
    });
    // A reload: the next host gets the baseline (and that momd changed zswap), not momd's settings.
    const next = createLinuxHost({ ...copy, zswapBaseline: host.zswapBaseline() });
    await host.close({ restore: true });
    assert.equal(await knob('enabled'), 'Y', 'close does not restore zswap');
    await next.setZswap({ maxPoolPercent: 15 });
    assert.deepEqual(await next.restoreZswap(), { enabled: 0, maxPoolPercent: 20 });
    assert.deepEqual([await knob('enabled'), await knob('max_pool_percent')], ['N', '20']);
    assert.deepEqual(await next.restoreZswap(), {}, 'nothing left to restore');
  } finally {
    await copy.remove();
  }
});

test('zswap momd never changed is never restored: a change made by someone else stays', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = zswapDir(copy.sysRoot);
  try {
    const host = createLinuxHost(copy);
    await host.read(MEMORY); // N, 20 found
    await writeFile(join(dir, 'enabled'), 'Y\n');
    assert.deepEqual(await host.restoreZswap(), {});
    assert.equal((await readFile(join(dir, 'enabled'), 'utf8')).trim(), 'Y');
    await host.close({ restore: true });
    assert.equal((await readFile(join(dir, 'enabled'), 'utf8')).trim(), 'Y');
  } finally {
    await copy.remove();
  }
});

test('host-memory-source: a v1 cgroup stands in for the RAM', async () => {
  const v1 = fixture('host-cgroup-v1');
  const host = createLinuxHost({ ...v1, memorySource: { cgroup: '/memory/momtest' } });
  const m = await host.read(MEMORY);
  assert.deepEqual(
    {
      total: m.mem_available,
      unused: m.mem_unused,
      cached: m.mem_cached,
      avail: m.mem_avail,
      anon: m.anon_pages,
      plain: m.mem_total,
    },
    {
      total: 524288,
      unused: 524288 - 45112,
      cached: 29712,
      avail: 524288 - 45112 + 27616,
      anon: 14860,
      plain: 524288,
    },
  );
  assert.deepEqual(
    [m.swap_in, m.swap_out],
    [1234, 5678],
    "v1 has no per-cgroup swap counters: the machine's",
  );
});

test('host-memory-source: a v2 cgroup, by its full path, with its own swap counters', async () => {
  const v2 = fixture('host-cgroup-v2');
  const cgroup = join(v2.cgroupRoot, 'machine.slice', 'machine-qemu\\x2d1\\x2dvm01.scope');
  const m = await createLinuxHost({ ...v2, memorySource: { cgroup } }).read(MEMORY);
  assert.deepEqual(
    [m.mem_available, m.mem_unused, m.mem_cached, m.anon_pages, m.swap_in, m.swap_out],
    [1048576, 1048576 - 425984, 102400, 307200, 12, 5120],
  );
  // What zswap holds is the cgroup's own (memory.stat zswap, zswapped); its knobs are the machine's.
  assert.deepEqual(
    [m.zswap_enabled, m.zswap_max_pool_percent, m.zswap_compressed, m.zswap_stored, m.zswap_pool_fill],
    [1, 20, 51200, 153600, 0],
  );
  await assert.rejects(
    createLinuxHost({ ...v2, memorySource: { cgroup: '/nope' } }).read(MEMORY),
    /not a memory cgroup/,
  );
});

test('memory limits: read per guest, shared and root cgroups refused, written through the port', async () => {
  const copy = await fixtureCopy('host-cgroup-v1');
  try {
    const host = createLinuxHost(copy);
    assert.ok((await host.probe()).capabilities.has('cgroup-limits'));
    const vm = { id: 'a', name: 'vm01', uuid: 'u', pid: 26405 };
    const root = { id: 'b', name: 'root', uuid: 'v', pid: 26406 };
    const limits = await host.memoryLimits([vm, root]);
    assert.deepEqual(limits.get('a'), { limitKib: 524288 });
    assert.match(String((limits.get('b') as Error).message), /root memory cgroup/);
    await host.setMemoryLimit(vm, 262144);
    assert.deepEqual((await host.memoryLimits([vm])).get('a'), { limitKib: 262144 });
    await assert.rejects(host.setMemoryLimit(root, 1000), /root memory cgroup/);
  } finally {
    await copy.remove();
  }
});

test('this machine: memory invariants, KSM and PSI present, ksmd measurable (nothing is written)', async () => {
  const host = createLinuxHost();
  const probe = await host.probe();
  assert.ok(probe.capabilities.has('ksm') && probe.capabilities.has('psi'));
  const m = await host.read(ALL);
  const n = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);
  assert.ok(n(m.mem_available) > n(m.mem_unused) && n(m.mem_unused) > 0);
  assert.ok(n(m.mem_avail) > 0 && n(m.mem_avail) <= n(m.mem_available));
  assert.ok(n(m.mem_cached) >= 0 && n(m.anon_pages) > 0 && n(m.swap_usage) <= n(m.swap_total));
  assert.ok(n(m.cpu_count) >= 1 && n(m.swap_in) >= 0 && n(m.swap_out) >= 0);
  assert.ok(typeof m.ksm_run === 'number');
  if (probe.capabilities.has('zswap')) {
    assert.ok(m.zswap_enabled === 0 || m.zswap_enabled === 1);
    assert.ok(n(m.zswap_max_pool_percent) >= 0 && n(m.zswap_max_pool_percent) <= 100);
  } else assert.equal(m.zswap_enabled, undefined);
  assert.ok(n(m.psi_some_avg10) >= 0 && n(m.psi_full_avg10) >= 0);
  assert.ok(n(m.ksm_shareable) >= 0);
  assert.ok(n(m.ksmd_cpu_usage) >= 0, 'ksmd measured against the probe');
  assert.equal(m.mem_total, m.mem_available);
});
