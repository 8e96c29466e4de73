import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HypervisorError } from '../hypervisor.js';
import type { Json } from './client.js';
import {
  balloonChangeKiB,
  convertGuestStats,
  GuestStatsReply,
  isBalloonChild,
  maxKiBOf,
  memoryOptionKiB,
  queryBalloonKiB,
  queryBlockThrottles,
  queryName,
  queryVcpuCount,
  reported,
  setBalloon,
  setBlockThrottle,
  type QmpExecutor,
} from './commands.js';
import { NO_IO_LIMITS } from '../../fields/io-tune.js';

const MIB = 1024 * 1024;
/** QEMU writes "not available" as this exact integer; JSON.parse rounds it. */
const NOT_AVAILABLE = JSON.parse('18446744073709551615') as number;

function executor(reply: Json): QmpExecutor & { calls: Array<[string, Json | undefined]> } {
  const calls: Array<[string, Json | undefined]> = [];
  return {
    path: '/run/x.qmp',
    calls,
    async execute(command, args) {
      calls.push([command, args ?? null]);
      return reply;
    },
  };
}

test('reported: 2^64-1 and negatives are null, real values pass', () => {
  assert.equal(reported(NOT_AVAILABLE), null);
  assert.equal(reported(-1), null);
  assert.equal(reported(undefined), null);
  assert.equal(reported(0), 0);
  assert.equal(reported(2 ** 53), 2 ** 53);
});

test('guest-stats: bytes to KiB, swap bytes to 4 KiB pages, faults as counts, age from last-update', () => {
  const reply = GuestStatsReply.parse(
    JSON.parse(`{"stats": {
      "stat-total-memory": 536870912, "stat-free-memory": 268435456, "stat-available-memory": 402653184,
      "stat-disk-caches": 67108864, "stat-swap-in": 40960, "stat-swap-out": 8192,
      "stat-major-faults": 17, "stat-minor-faults": 123456,
      "stat-htlb-pgalloc": 0, "stat-htlb-pgfail": 18446744073709551615},
      "last-update": 1700000000}`),
  );
  assert.deepEqual(convertGuestStats(reply, 1700000003.5), {
    mem_available: 512 * 1024,
    mem_unused: 256 * 1024,
    mem_usable: 384 * 1024,
    mem_cache: 64 * 1024,
    swap_in: 10,
    swap_out: 2,
    major_fault: 17,
    minor_fault: 123456,
    stats_age_s: 3.5,
    oom_kills: null,
    alloc_stalls: null,
    direct_scans: null,
    direct_reclaims: null,
    async_scans: null,
    async_reclaims: null,
  });
});

test('guest-stats of a Linux 6.12+ guest on QEMU 9.2+: OOM kills, allocation stalls, scans and reclaims', () => {
  const reply = GuestStatsReply.parse({
    stats: {
      'stat-oom-kills': 1,
      'stat-alloc-stalls': 42,
      'stat-async-scans': 1000,
      'stat-direct-scans': 300,
      'stat-async-reclaims': 900,
      'stat-direct-reclaims': 60,
    },
    'last-update': 5,
  });
  const s = convertGuestStats(reply, 6);
  assert.deepEqual(
    [s.oom_kills, s.alloc_stalls, s.async_scans, s.direct_scans, s.async_reclaims, s.direct_reclaims],
    [1, 42, 1000, 300, 900, 60],
  );
});

test('guest-stats before the driver reported: every value null, age null', () => {
  const all = [
    'stat-swap-in',
    'stat-swap-out',
    'stat-major-faults',
    'stat-minor-faults',
    'stat-free-memory',
    'stat-total-memory',
    'stat-available-memory',
    'stat-disk-caches',
  ];
  const stats = Object.fromEntries(all.map((k) => [k, NOT_AVAILABLE]));
  const s = convertGuestStats({ stats, 'last-update': 0 }, 1700000000);
  for (const [k, v] of Object.entries(s)) assert.equal(v, null, k);
  // A key the guest's kernel does not know is simply absent: null too.
  assert.equal(convertGuestStats({ stats: {}, 'last-update': 5 }, 10).mem_usable, null);
  // A host clock a little behind QEMU's stamp never gives a negative age.
  assert.equal(convertGuestStats({ stats: {}, 'last-update': 100 }, 99).stats_age_s, 0);
});

test('balloon_max is base plus hot-plugged memory, in KiB', () => {
  assert.equal(maxKiBOf({ 'base-memory': 1024 * MIB, 'plugged-memory': 512 * MIB }), 1536 * 1024);
  assert.equal(maxKiBOf({ 'base-memory': 1024 * MIB }), 1024 * 1024);
});

test('the -m option: MiB by default, suffixes, size= form; absent or odd is null', () => {
  const m = (...a: string[]) => memoryOptionKiB(['qemu-system-x86_64', '-accel', 'tcg', ...a]);
  assert.equal(m('-m', '512'), 512 * 1024);
  assert.equal(m('-m', '2G'), 2 * 1024 * 1024);
  assert.equal(m('-m', '1536M'), 1536 * 1024);
  assert.equal(m('-m', 'size=4G,slots=2,maxmem=8G'), 4 * 1024 * 1024);
  assert.equal(m('-m', 'slots=2,size=1g,maxmem=8G'), 1024 * 1024);
  assert.equal(m('-smp', '2'), null);
  assert.equal(m('-m', 'lots'), null);
});

test('query-balloon converts bytes to KiB; a malformed reply is a transport error naming the field', async () => {
  assert.equal(await queryBalloonKiB(executor({ actual: 536870912 })), 512 * 1024);
  await assert.rejects(
    queryBalloonKiB(executor({ actual: 'big' })),
    (err: unknown) =>
      err instanceof HypervisorError &&
      err.code === 'MOM_E_TRANSPORT' &&
      /query-balloon: unexpected reply at actual/.test(err.message),
  );
});

test('query-name: no -name (an empty reply) is null', async () => {
  assert.equal(await queryName(executor({})), null);
  assert.equal(await queryName(executor({ name: 'web1' })), 'web1');
});

test('balloon sends bytes; a target below 1 KiB or not finite is refused before sending', async () => {
  const q = executor({});
  await setBalloon(q, 300 * 1024, undefined);
  assert.deepEqual(q.calls, [['balloon', { value: 300 * MIB }]]);
  for (const bad of [0, -5, Number.NaN, Infinity]) {
    await assert.rejects(
      setBalloon(q, bad),
      (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_UNSUPPORTED',
    );
  }
  assert.equal(q.calls.length, 1);
});

test('BALLOON_CHANGE data and QOM balloon types', () => {
  assert.equal(balloonChangeKiB({ actual: 256 * MIB }), 256 * 1024);
  assert.equal(balloonChangeKiB({}), null);
  assert.ok(isBalloonChild('child<virtio-balloon-pci>'));
  assert.ok(isBalloonChild('child<virtio-balloon-ccw>'));
  assert.ok(isBalloonChild('child<virtio-balloon-device>'));
  assert.ok(!isBalloonChild('child<virtio-net-pci>'));
  assert.ok(!isBalloonChild('link<virtio-balloon-pci>'));
});

test('query-block: each drive with a medium, named by its drive (or its device), with its throttle', async () => {
  // The shape QEMU 7.2 answers with (fields momd does not read trimmed): a -drive if=none with a
  // virtio-blk device, a -blockdev (no drive name), and an empty cdrom.
  const throttle = { bps: 0, bps_rd: 0, bps_wr: 0, iops: 0, iops_rd: 0, iops_wr: 0 };
  const qmp = executor([
    {
      device: 'swap0',
      qdev: '/machine/peripheral-anon/device[1]/virtio-backend',
      locked: false,
      removable: false,
      inserted: { file: '/var/tmp/g1.swap.img', ro: false, drv: 'raw', ...throttle, bps: 1048576, iops: 100 },
      type: 'unknown',
    },
    {
      device: '',
      qdev: 'disk1',
      locked: false,
      removable: false,
      inserted: { file: '/img/d1.qcow2', ...throttle },
    },
    {
      device: 'ide1-cd0',
      qdev: '/machine/unattached/device[23]',
      locked: false,
      removable: true,
      tray_open: false,
    },
  ]);
  const drives = await queryBlockThrottles(qmp);
  assert.deepEqual(drives, [
    {
      name: 'swap0',
      target: { id: '/machine/peripheral-anon/device[1]/virtio-backend' },
      path: '/var/tmp/g1.swap.img',
      current: {
        total_bytes_sec: 1048576,
        read_bytes_sec: 0,
        write_bytes_sec: 0,
        total_iops_sec: 100,
        read_iops_sec: 0,
        write_iops_sec: 0,
      },
    },
    {
      name: 'disk1',
      target: { id: 'disk1' },
      path: '/img/d1.qcow2',
      current: NO_IO_LIMITS,
    },
  ]);
  await assert.rejects(queryBlockThrottles(executor([{ qdev: 'x' }])), /query-block: unexpected reply/);
});

test('block_set_io_throttle gets all six values under QEMU names; query-cpus-fast counts vCPUs', async () => {
  const qmp = executor({});
  await setBlockThrottle(
    qmp,
    { id: 'disk1' },
    {
      total_bytes_sec: 1,
      read_bytes_sec: 2,
      write_bytes_sec: 3,
      total_iops_sec: 4,
      read_iops_sec: 5,
      write_iops_sec: 6,
    },
  );
  assert.deepEqual(qmp.calls, [
    ['block_set_io_throttle', { id: 'disk1', bps: 1, bps_rd: 2, bps_wr: 3, iops: 4, iops_rd: 5, iops_wr: 6 }],
  ]);
  const cpus = executor([
    { 'cpu-index': 0, 'qom-path': '/machine/unattached/device[0]', 'thread-id': 21150, target: 'x86_64' },
    { 'cpu-index': 1, 'qom-path': '/machine/unattached/device[2]', 'thread-id': 21151, target: 'x86_64' },
  ]);
  assert.equal(await queryVcpuCount(cpus), 2);
});
