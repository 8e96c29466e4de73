import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CollectionError } from '../linux/read.js';
import { memoryFromProc } from './memory.js';

const fixture = (name: string): string =>
  readFileSync(
    fileURLToPath(new URL(`../../../../test/fixtures/guest-agent/${name}`, import.meta.url)),
    'utf8',
  );

test('recorded /proc files (kernel 6.18): the GuestMemory fields, with the balloon driver’s meanings', () => {
  const r = memoryFromProc(fixture('meminfo.txt'), fixture('vmstat.txt'), 'vm1');
  assert.equal(r.mem_available, 24683756);
  assert.equal(r.mem_unused, 24141492);
  assert.equal(r.mem_usable, 24284668);
  assert.equal(r.mem_cache, 300664 + 0 + 2132); // Cached + SwapCached + Buffers
  assert.equal(r.swap_total, 0);
  assert.equal(r.swap_usage, 0);
  assert.equal(r.swap_in, 181596);
  assert.equal(r.swap_out, 1117151);
  assert.equal(r.major_fault, 109126);
  assert.equal(r.minor_fault, 154623071); // pgfault: all faults, as virtio-balloon reports them
  assert.equal(r.oom_kills, 0);
  assert.equal(r.alloc_stalls, 0);
  assert.equal(r.direct_scans, 0);
  assert.equal(r.async_reclaims, 0);
  assert.equal(r.stats_age_s, 0);
});

test('allocation stalls are summed over the zones; swap in use is total less free', () => {
  const meminfo =
    'MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\nBuffers: 10 kB\nCached: 200 kB\n' +
    'SwapCached: 5 kB\nSwapTotal: 2048 kB\nSwapFree: 1024 kB\n';
  const vmstat =
    'pgfault 50\npgmajfault 7\npswpin 3\npswpout 4\nallocstall_dma32 2\nallocstall_normal 5\nallocstall_movable 1\n' +
    'pgscan_direct 11\npgsteal_direct 9\npgscan_kswapd 30\npgsteal_kswapd 20\noom_kill 1\n';
  const r = memoryFromProc(meminfo, vmstat, 'vm1');
  assert.equal(r.alloc_stalls, 8);
  assert.equal(r.swap_usage, 1024);
  assert.equal(r.mem_cache, 215);
  assert.deepEqual(
    [r.direct_scans, r.direct_reclaims, r.async_scans, r.async_reclaims, r.oom_kills],
    [11, 9, 30, 20, 1],
  );
});

test('an old kernel: counters it lacks are nil, not 0', () => {
  const r = memoryFromProc(
    'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 0 kB\nCached: 200 kB\n',
    'pgfault 5\n',
    'vm1',
  );
  assert.equal(r.mem_usable, null); // no MemAvailable before 3.14
  assert.equal(r.swap_total, null);
  assert.equal(r.swap_usage, null);
  assert.equal(r.swap_in, null);
  assert.equal(r.alloc_stalls, null);
  assert.equal(r.oom_kills, null);
  assert.equal(r.minor_fault, 5);
});

test('a malformed file: a CollectionError naming the guest, the file and the line', () => {
  assert.throws(
    () => memoryFromProc('MemTotal 1000 kB\nMemFree: lots\n', 'pgfault 5\n', 'vm1'),
    (err: unknown) => err instanceof CollectionError && /vm1:\/proc\/meminfo/.test(err.message),
  );
  assert.throws(
    () => memoryFromProc('MemFree: 1 kB\nCached: 1 kB\n', '', 'vm1'),
    (err: unknown) => err instanceof CollectionError && /MemTotal/.test(err.message),
  );
});
