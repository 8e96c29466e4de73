import assert from 'node:assert/strict';
import { linkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestReading } from '../../fields/catalogue.js';
import { HypervisorError, MIN_BALLOON_KIB } from '../hypervisor.js';
import {
  fakeGuest,
  FakeQmpServer,
  type FakeBehaviour,
  type FakeGuest,
} from '../../../test/support/fake-qmp-server.js';
import { createQmpBackend, type QmpBackend, type QmpOptions } from './index.js';

const MIB = 1024 * 1024;
const NOW = 1_700_000_000;

let tmp: string;
let run: string;
let proc: string;
let fakes: FakeQmpServer[];
let backends: QmpBackend[];
let warnings: string[];

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'momd-qmp-'));
  run = path.join(tmp, 'run');
  proc = path.join(tmp, 'proc');
  await mkdir(run);
  await mkdir(proc);
  await writeProc(1, ['/sbin/init'], 1000);
  fakes = [];
  backends = [];
  warnings = [];
});

afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(fakes.map((f) => f.stop().catch(() => {})));
  await rm(tmp, { recursive: true, force: true });
});

async function writeProc(pid: number, args: string[], rssKiB: number): Promise<void> {
  await mkdir(path.join(proc, String(pid)), { recursive: true });
  await writeFile(path.join(proc, String(pid), 'cmdline'), args.join('\0') + '\0');
  await writeFile(
    path.join(proc, String(pid), 'status'),
    `Name:\tqemu-system-x86\nVmPeak:\t  999999 kB\nVmRSS:\t  ${rssKiB} kB\nVmSwap:\t  4096 kB\nThreads:\t4\n`,
  );
  // minflt 500, majflt 7, utime 150 and stime 50 ticks: 2000 ms of CPU.
  await writeFile(
    path.join(proc, String(pid), 'stat'),
    `${pid} (qemu-system-x86) S 1 1 1 0 -1 4194560 500 0 7 0 150 50 0 0 20 0 4 0 100 1000 100\n`,
  );
}

async function guest(
  file: string,
  over: Partial<FakeGuest> = {},
  behaviour: Partial<FakeBehaviour> = {},
): Promise<FakeQmpServer> {
  const f = await FakeQmpServer.start(path.join(run, file), fakeGuest(over), behaviour);
  fakes.push(f);
  return f;
}

function backend(over: Partial<QmpOptions> = {}): QmpBackend {
  const b = createQmpBackend({
    socketGlob: path.join(run, '*.qmp'),
    procRoot: proc,
    now: () => NOW,
    requestTimeoutMs: 200,
    onWarning: (m) => warnings.push(m),
    ...over,
  });
  backends.push(b);
  return b;
}

function statsOf(m: Map<string, GuestReading | HypervisorError>, id: string): GuestReading {
  const s = m.get(id);
  assert.ok(s !== undefined && !(s instanceof HypervisorError), `stats of ${id}: ${String(s)}`);
  return s;
}

function errorOf(m: Map<string, GuestReading | HypervisorError>, id: string): HypervisorError {
  const s = m.get(id);
  assert.ok(s instanceof HypervisorError, `expected an error for ${id}`);
  return s;
}

test('lists the sockets matching the glob, with name, uuid and pid; one connection per socket', async () => {
  const a = await guest('100.qmp', { name: 'web1' });
  const b = await guest('101.qmp', { name: undefined, uuid: '00000000-0000-0000-0000-000000000000' });
  await writeFile(path.join(run, 'notes.qmp'), 'not a socket');
  await guest('100.mon'); // a socket that does not match
  await writeProc(
    4242,
    ['/usr/bin/kvm', '-id', '100', '-chardev', `socket,id=qmp,path=${a.path},server=on,wait=off`],
    1,
  );
  const hv = backend();
  const guests = await hv.listGuests();
  assert.deepEqual(guests, [
    { id: a.path, name: 'web1', uuid: a.guest.uuid, pid: 4242 },
    { id: b.path, name: '101', uuid: '00000000-0000-0000-0000-000000000000', pid: null },
  ]);
  assert.equal(hv.name, 'qmp');
  // Balloon statistics polling was switched on, at the default 2 s, on balloon0.
  assert.equal(a.guest.balloon?.pollingInterval, 2);
  assert.deepEqual(a.received.find((r) => r.command === 'qom-set')?.args, {
    path: '/machine/peripheral/balloon0',
    property: 'guest-stats-polling-interval',
    value: 2,
  });
  // A second cycle reuses the connections and checks each guest with query-status.
  assert.deepEqual(await hv.listGuests(), guests);
  assert.equal(a.greeted, 1);
  assert.equal(b.greeted, 1);
  assert.equal(a.commands().filter((c) => c === 'query-status').length, 2);
  assert.deepEqual(warnings, []);
});

test('the pid is found through a symlinked directory by inode (Proxmox /var/run -> /run)', async () => {
  const a = await guest('100.qmp');
  await symlink(run, path.join(tmp, 'var-run'));
  await writeProc(77, ['qemu', '-qmp', `unix:${path.join(tmp, 'var-run', '100.qmp')},server=on,wait=off`], 1);
  const [g] = await backend().listGuests();
  assert.equal(g?.id, a.path);
  assert.equal(g?.pid, 77);
});

test('guestStats converts every unit and marks unreported values null', async () => {
  const a = await guest('100.qmp', {
    baseBytes: 1024 * MIB,
    pluggedBytes: 512 * MIB,
    balloon: {
      id: 'balloon0',
      type: 'virtio-balloon-pci',
      actualBytes: 768 * MIB,
      pollingInterval: 0,
      lastUpdate: NOW - 3,
      stats: {
        'stat-total-memory': 700 * MIB,
        'stat-free-memory': 100 * MIB,
        'stat-available-memory': 300 * MIB,
        'stat-disk-caches': 150 * MIB,
        'stat-swap-in': 4096n * 25n,
        'stat-swap-out': 4096n * 7n,
        'stat-major-faults': 12,
        'stat-minor-faults': 3456,
        'stat-htlb-pgalloc': 0,
        'stat-htlb-pgfail': 2n ** 64n - 1n,
      },
    },
  });
  a.guest.balloon!.stats['stat-disk-caches'] = 2n ** 64n - 1n; // the guest did not report this one
  await writeProc(4242, ['qemu', '-qmp', `unix:${a.path},server=on,wait=off`], 812_345);
  const hv = backend();
  await hv.listGuests();
  const s = statsOf(await hv.guestStats([a.path]), a.path);
  assert.deepEqual(s, {
    balloon_cur: 768 * 1024,
    balloon_max: 1536 * 1024,
    mem_available: 700 * 1024,
    mem_unused: 100 * 1024,
    mem_cache: null,
    mem_usable: 300 * 1024,
    stats_age_s: 3,
    swap_in: 25,
    swap_out: 7,
    major_fault: 12,
    minor_fault: 3456,
    oom_kills: null,
    alloc_stalls: null,
    direct_scans: null,
    direct_reclaims: null,
    async_scans: null,
    async_reclaims: null,
    rss: 812_345,
    swapped: 4096,
    cpu_time: 2000,
    host_minor_faults: 500,
    host_major_faults: 7,
  });
});

test('a guest whose driver never reported: stats null, age null, balloon still known', async () => {
  const a = await guest('100.qmp', {
    balloon: {
      id: 'balloon0',
      type: 'virtio-balloon-pci',
      actualBytes: 512 * MIB,
      pollingInterval: 0,
      lastUpdate: 0,
      stats: { 'stat-total-memory': 2n ** 64n - 1n, 'stat-free-memory': 2n ** 64n - 1n },
    },
  });
  const hv = backend();
  await hv.listGuests();
  const s = statsOf(await hv.guestStats([a.path]), a.path);
  assert.equal(s.balloon_cur, 512 * 1024);
  assert.equal(s.mem_available, null);
  assert.equal(s.mem_unused, null);
  assert.equal(s.stats_age_s, null);
  assert.equal(s.rss, null); // no pid found
  assert.equal(s.swapped, null);
});

test('a balloon device without an id is found in /machine/peripheral-anon', async () => {
  const a = await guest('100.qmp', {
    balloon: {
      id: null,
      type: 'virtio-balloon-pci',
      actualBytes: 512 * MIB,
      pollingInterval: 0,
      lastUpdate: NOW,
      stats: { 'stat-free-memory': 64 * MIB },
    },
  });
  const hv = backend({ statsPollingIntervalS: 5 });
  await hv.listGuests();
  assert.equal(a.guest.balloon?.pollingInterval, 5);
  assert.equal(statsOf(await hv.guestStats([a.path]), a.path).mem_unused, 64 * 1024);
  const get = a.received.find((r) => r.command === 'qom-get');
  assert.equal(get?.args?.['path'], '/machine/peripheral-anon/device[0]');
});

test('a guest without a balloon device is listed; its stats are null and ballooning is unsupported', async () => {
  const a = await guest('100.qmp', { balloon: null });
  const hv = backend();
  assert.equal((await hv.listGuests()).length, 1);
  const s = statsOf(await hv.guestStats([a.path]), a.path);
  assert.equal(s.balloon_cur, null);
  assert.equal(s.mem_available ?? null, null, 'left out: no balloon device');
  assert.equal(s.balloon_max, 512 * 1024);
  assert.ok(!a.commands().includes('qom-get'));
  await assert.rejects(
    hv.setBalloonTarget(a.path, 300 * 1024),
    (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_UNSUPPORTED',
  );
  assert.deepEqual(warnings, []);
});

test('a QEMU without query-memory-size-summary: balloon_max from its -m argument', async () => {
  const a = await guest('100.qmp', { hasSizeSummary: false });
  await writeProc(31, ['qemu-system-x86_64', '-m', '2G', '-qmp', `unix:${a.path},server=on,wait=off`], 5);
  const hv = backend();
  await hv.listGuests();
  assert.equal(statsOf(await hv.guestStats([a.path]), a.path).balloon_max, 2 * 1024 * 1024);
  // Asked once; later cycles use the remembered value.
  await hv.guestStats([a.path]);
  assert.equal(a.commands().filter((c) => c === 'query-memory-size-summary').length, 1);
});

test('setBalloonTarget sends bytes; the BALLOON_CHANGE that follows is remembered', async () => {
  const a = await guest('100.qmp');
  const hv = backend();
  await hv.listGuests();
  assert.equal(await hv.setBalloonTarget(a.path, 300 * 1024 + 3.5), 300 * 1024, 'whole 4 KiB pages');
  assert.deepEqual(a.received.find((r) => r.command === 'balloon')?.args, { value: 300 * MIB });
  for (let i = 0; i < 50 && hv.lastBalloonChange(a.path) === null; i++) await sleep(5);
  assert.equal(hv.lastBalloonChange(a.path)?.kib, 300 * 1024);
  assert.equal(statsOf(await hv.guestStats([a.path]), a.path).balloon_cur, 300 * 1024);
  // 0 would take all of the guest's memory: raised to the floor every backend keeps.
  assert.equal(await hv.setBalloonTarget(a.path, 0), MIN_BALLOON_KIB);
  assert.equal(await hv.setBalloonTarget(a.path, 10 ** 9), 512 * 1024, 'the maximum');
  await assert.rejects(
    hv.setBalloonTarget(a.path, -5),
    (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_INVALID_ARGUMENT',
  );
});

test('split chunks and events interleaved with every reply do not disturb the backend', async () => {
  const a = await guest('100.qmp', {}, { chunking: 'split', eventBeforeReplies: true });
  const b = await guest('101.qmp', {}, { chunking: 'merge', reverseBatches: true, eventBeforeReplies: true });
  const hv = backend({ requestTimeoutMs: 2000 });
  assert.equal((await hv.listGuests()).length, 2);
  const m = await hv.guestStats([a.path, b.path]);
  assert.equal(statsOf(m, a.path).balloon_cur, 512 * 1024);
  assert.equal(statsOf(m, b.path).balloon_max, 512 * 1024);
  assert.equal(hv.lastBalloonChange(b.path)?.kib, 512 * 1024);
});

test('a guest that goes away: guest-gone in the map, then dropped from the list', async () => {
  const a = await guest('100.qmp');
  const b = await guest('101.qmp');
  const hv = backend();
  await hv.listGuests();
  await a.stop(); // QEMU exits: hang-up, and its socket file goes
  await sleep(20);
  const m = await hv.guestStats([a.path, b.path, '/nowhere.qmp']);
  assert.equal(errorOf(m, a.path).code, 'MOM_E_GUEST_GONE');
  assert.equal(errorOf(m, '/nowhere.qmp').code, 'MOM_E_GUEST_GONE');
  assert.equal(statsOf(m, b.path).balloon_cur, 512 * 1024);
  assert.deepEqual(
    (await hv.listGuests()).map((g) => g.id),
    [b.path],
  );
  await assert.rejects(
    hv.setBalloonTarget(a.path, 1024),
    (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_GUEST_GONE',
  );
  assert.deepEqual(warnings, []); // churn is not a warning
});

test('a hung guest times out in the map; the others answer and the call lasts one timeout', async () => {
  const hung = await Promise.all(['1.qmp', '2.qmp', '3.qmp'].map((f) => guest(f)));
  const fine = await guest('4.qmp');
  const hv = backend();
  await hv.listGuests();
  for (const h of hung) h.behaviour.silent.add('qom-get');
  const t0 = Date.now();
  const m = await hv.guestStats([...hung.map((h) => h.path), fine.path]);
  const elapsed = Date.now() - t0;
  for (const h of hung) assert.equal(errorOf(m, h.path).code, 'MOM_E_TIMEOUT');
  assert.equal(statsOf(m, fine.path).balloon_cur, 512 * 1024);
  assert.ok(elapsed < 550, `took ${elapsed} ms for 3 hung guests with a 200 ms timeout`);
});

test('a guest that stops answering is dropped and its connection closed, warned once', async () => {
  const a = await guest('100.qmp');
  const hv = backend();
  assert.equal((await hv.listGuests()).length, 1);
  a.behaviour.silent.add('query-status');
  assert.deepEqual(await hv.listGuests(), []);
  await sleep(20);
  assert.equal(a.clientConnected, false); // the connection was closed
  assert.deepEqual(await hv.listGuests(), []);
  assert.deepEqual(await hv.listGuests(), []);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0] ?? '', /100\.qmp.*query-status: no reply within 200 ms/);
  // It answers again: listed again, and a later relapse would warn again.
  a.behaviour.silent.delete('query-status');
  assert.equal((await hv.listGuests()).length, 1);
});

test('a refused (stale) socket is omitted and warned once; it is picked up when QEMU is back', async () => {
  const stale = path.join(run, '102.qmp');
  const server = net.createServer();
  const live = path.join(tmp, 'tmp.sock');
  await new Promise<void>((r) => server.listen(live, () => r()));
  linkSync(live, stale);
  await new Promise<void>((r) => server.close(() => r()));
  const a = await guest('100.qmp');
  const hv = backend();
  assert.deepEqual(
    (await hv.listGuests()).map((g) => g.id),
    [a.path],
  );
  assert.deepEqual(
    (await hv.listGuests()).map((g) => g.id),
    [a.path],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /102\.qmp: connection refused/);
  await unlink(stale);
  const back = await guest('102.qmp', { name: 'back' });
  assert.deepEqual(
    (await hv.listGuests()).map((g) => g.name),
    ['vm1', 'back'],
  );
  assert.equal(back.greeted, 1);
});

test('a socket held by another client (QEMU serves one) is omitted with a warning', async () => {
  const a = await guest('100.qmp');
  const other = net.createConnection({ path: a.path });
  await new Promise((r) => other.once('data', r)); // it got the greeting: it holds the socket
  const hv = backend();
  assert.deepEqual(await hv.listGuests(), []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /no QMP greeting/);
  other.destroy();
  await sleep(20);
  // The other client has gone: the next cycle connects.
  assert.equal((await hv.listGuests()).length, 1);
});

test('only running (or paused...) guests are listed: a powered-off -no-shutdown QEMU is not', async () => {
  await guest('100.qmp', { status: 'paused' });
  await guest('101.qmp', { status: 'shutdown' });
  const names = (await backend().listGuests()).map((g) => g.id.slice(-7));
  assert.deepEqual(names, ['100.qmp']);
});

test('concurrent listGuests calls share one connection per socket', async () => {
  const a = await guest('100.qmp');
  const hv = backend();
  const [x, y] = await Promise.all([hv.listGuests(), hv.listGuests()]);
  assert.equal(x.length, 1);
  assert.equal(y.length, 1);
  assert.equal(a.greeted, 1);
});

test('close() hangs up on every guest; the backend then refuses calls', async () => {
  const a = await guest('100.qmp');
  const b = await guest('101.qmp');
  const hv = backend();
  await hv.listGuests();
  assert.equal(a.clientConnected && b.clientConnected, true);
  await hv.close();
  await sleep(20);
  assert.equal(a.clientConnected, false);
  assert.equal(b.clientConnected, false);
  await assert.rejects(hv.listGuests(), (e: unknown) => e instanceof HypervisorError);
});

test('the socket pattern: wildcards only in the file name; a missing directory is no guests', async () => {
  assert.throws(
    () => createQmpBackend({ socketGlob: '/var/run/*/x.qmp' }),
    (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_INVALID_ARGUMENT',
  );
  const hv = backend({ socketGlob: path.join(tmp, 'absent', '*.qmp') });
  assert.deepEqual(await hv.listGuests(), []);
  assert.deepEqual(await hv.listGuests(), []);
  assert.equal(warnings.length, 1);
  // A pattern without '*' names one socket.
  const a = await guest('100.qmp');
  assert.equal((await backend({ socketGlob: a.path }).listGuests()).length, 1);
});

test('an aborted signal rejects the calls with its reason', async () => {
  const a = await guest('100.qmp');
  const hv = backend();
  await hv.listGuests();
  a.behaviour.silent.add('query-balloon');
  const ac = new AbortController();
  const p = hv.guestStats([a.path], ac.signal);
  ac.abort(new Error('cycle deadline'));
  await assert.rejects(p, /cycle deadline/);
  await assert.rejects(hv.listGuests(ac.signal), /cycle deadline/);
});

test('twelve guests and one shared task signal: no abort-listener leak warning, and the size summary asked once', async () => {
  const fakes12 = await Promise.all(
    Array.from({ length: 12 }, (_, i) => guest(`${200 + i}.qmp`, { name: `g${i}` })),
  );
  const seen: Error[] = [];
  const onWarning = (w: Error): void => {
    seen.push(w);
  };
  process.on('warning', onWarning);
  try {
    const hv = backend();
    const task = new AbortController();
    const ids = (await hv.listGuests(task.signal)).map((g) => g.id);
    assert.equal(ids.length, 12);
    for (let cycle = 0; cycle < 3; cycle++) await hv.guestStats(ids, task.signal);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      seen.map((w) => w.name),
      [],
      'no MaxListenersExceededWarning',
    );
    for (const f of fakes12)
      assert.equal(f.commands().filter((c) => c === 'query-memory-size-summary').length, 1);
  } finally {
    process.off('warning', onWarning);
  }
});
