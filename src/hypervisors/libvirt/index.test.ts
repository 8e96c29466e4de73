import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { GuestReading } from '../../fields/catalogue.js';
import { HypervisorError, MIN_BALLOON_KIB } from '../hypervisor.js';
import { createLibvirtBackend, type LibvirtOptions } from './index.js';
import { classifyVirshFailure, type VirshRunner } from './virsh.js';

const fixtures = new URL('../../../../src/hypervisors/libvirt/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
/** When the real fixtures were captured (Unix seconds). */
const CAPTURED_AT = 1795474751;
const A = 'a4c5f448-8116-4a19-bf6f-bc005ec9168a';
const B = 'aae027ee-5a58-4d3f-8edd-501d34c46ec4';
const C = 'eaaa91d6-5471-49ba-9ea9-95325534214e';

/**
 * A fake virsh: answers `list` and `domstats` from the given texts, `dumpxml` from `xml` (by uuid;
 * a bare domain otherwise), `setmem` and `dommemstat` with nothing, and records every call.
 * `fail` may throw for a call instead.
 */
function fakeVirsh(
  host: { list: string; domstats: string; xml?: Record<string, string> },
  fail?: (args: string[]) => HypervisorError | undefined,
): { run: VirshRunner; calls: string[][] } {
  const calls: string[][] = [];
  const run: VirshRunner = async (args) => {
    calls.push(args);
    const err = fail?.(args);
    if (err) throw err;
    if (args[0] === 'list') return host.list;
    if (args[0] === 'domstats') return host.domstats;
    if (args[0] === 'dumpxml')
      return host.xml?.[args[1] ?? ''] ?? `<domain type='qemu'><uuid>${args[1]}</uuid></domain>`;
    return '\n';
  };
  return { run, calls };
}

/** The commands of the calls, in order, without the once-per-guest XML reads. */
const commands = (calls: string[][]): string[][] => calls.filter((c) => c[0] !== 'dumpxml');

const realHost = (): { list: string; domstats: string } => ({
  list: fixture('list-three-guests.txt'),
  domstats: fixture('domstats-three-guests.txt'),
});

function backend(run: VirshRunner, extra: Partial<LibvirtOptions> = {}) {
  return createLibvirtBackend({ virsh: run, pidDir: null, now: () => CAPTURED_AT, ...extra });
}

function stats(v: GuestReading | HypervisorError | undefined): GuestReading {
  assert.ok(v !== undefined && !(v instanceof HypervisorError), String(v));
  return v;
}

/** `virsh list --uuid --name` and `virsh domstats` for n synthetic guests, all polled. */
function syntheticHost(n: number): { list: string; domstats: string; ids: string[] } {
  const ids: string[] = [];
  let list = '';
  let domstats = '';
  for (let i = 0; i < n; i++) {
    const uuid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    ids.push(uuid);
    list += `${uuid} vm${i}\n`;
    domstats +=
      `Domain: 'vm${i}'\n  state.state=1\n  state.reason=1\n  balloon.current=${524288 + i}\n` +
      `  balloon.maximum=1048576\n  balloon.usable=100000\n  balloon.last-update=${CAPTURED_AT - 1}\n` +
      `  balloon.rss=600000\n\n`;
  }
  return { list: list + '\n', domstats, ids };
}

test("the backend is named 'libvirt'", () => {
  assert.equal(backend(fakeVirsh(realHost()).run).name, 'libvirt');
});

test('listGuests: one `virsh list --uuid --name`; the uuid is the id; pid from libvirtd pid files', async () => {
  const pidDir = mkdtempSync(path.join(tmpdir(), 'momd-libvirt-pids-'));
  after(() => rmSync(pidDir, { recursive: true, force: true }));
  writeFileSync(path.join(pidDir, 'momd-probe-a.pid'), '28061');
  writeFileSync(path.join(pidDir, 'momd-probe-b.pid'), 'garbage');
  const { run, calls } = fakeVirsh(realHost());
  const guests = await backend(run, { pidDir }).listGuests();
  assert.deepEqual(calls, [['list', '--uuid', '--name']]);
  assert.deepEqual(guests, [
    { id: A, name: 'momd-probe-a', uuid: A, pid: 28061 },
    { id: B, name: 'momd-probe-b', uuid: B, pid: null },
    { id: C, name: 'momd-probe-c', uuid: C, pid: null },
  ]);
});

test("guestStats: swapped is the QEMU process's VmSwap when its pid is known, left out otherwise", async () => {
  const pidDir = mkdtempSync(path.join(tmpdir(), 'momd-libvirt-pids-'));
  const procRoot = mkdtempSync(path.join(tmpdir(), 'momd-libvirt-proc-'));
  after(() => {
    rmSync(pidDir, { recursive: true, force: true });
    rmSync(procRoot, { recursive: true, force: true });
  });
  writeFileSync(path.join(pidDir, 'momd-probe-a.pid'), '28061');
  mkdirSync(path.join(procRoot, '28061'));
  writeFileSync(path.join(procRoot, '28061', 'status'), 'Name:\tqemu\nVmRSS:\t 9000 kB\nVmSwap:\t 2048 kB\n');
  const hv = backend(fakeVirsh(realHost()).run, { pidDir, procRoot });
  await hv.listGuests();
  const readings = await hv.guestStats([A, B]);
  assert.equal(stats(readings.get(A)).swapped, 2048);
  assert.equal(stats(readings.get(B)).swapped, undefined);
});

test('listGuests: no running domain (virsh prints one empty line) gives []', async () => {
  const { run } = fakeVirsh({ list: '\n', domstats: '' });
  assert.deepEqual(await backend(run).listGuests(), []);
});

test('listGuests: a name with spaces is kept whole', async () => {
  const { run } = fakeVirsh({ list: `${A} my test vm\n\n`, domstats: '' });
  assert.deepEqual(
    (await backend(run).listGuests()).map((g) => g.name),
    ['my test vm'],
  );
});

test('listGuests: a virsh that prints uuids without names is one warning, not guests named by uuid', async () => {
  const warnings: string[] = [];
  const { run } = fakeVirsh({ list: `${A}\n${B}\n\n`, domstats: '' });
  const hv = backend(run, { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(await hv.listGuests(), []);
  await hv.listGuests();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /printed no names/);
});

test('guestStats: one domstats call for all guests, each mapped by name back to its uuid', async () => {
  const xml = {
    [A]: `<domain type='kvm'><memtune><min_guarantee unit='MiB'>128</min_guarantee></memtune></domain>`,
  };
  const { run, calls } = fakeVirsh({ ...realHost(), xml });
  const hv = backend(run);
  await hv.listGuests();
  calls.length = 0;
  const out = await hv.guestStats([A, B]);
  assert.deepEqual(commands(calls), [
    ['domstats', '--raw', '--balloon', '--state', '--list-active', '--nowait'],
  ]);
  // Each guest's XML is read once, for its guaranteed memory; not again in the next cycles.
  assert.deepEqual(
    calls
      .filter((c) => c[0] === 'dumpxml')
      .map((c) => c[1])
      .sort(),
    [A, B].sort(),
  );
  calls.length = 0;
  await hv.guestStats([A, B]);
  assert.deepEqual(
    calls.map((c) => c[0]),
    ['domstats'],
  );
  assert.deepEqual([...out.keys()], [A, B]);
  const a = stats(out.get(A));
  assert.equal(a.balloon_cur, 250000);
  assert.equal(a.balloon_min, 131072);
  assert.equal(a.stats_age_s, 1);
  const b = stats(out.get(B));
  assert.equal(b.balloon_cur, 262144);
  assert.equal(b.balloon_min, null);
  assert.equal(b.mem_usable, 186068);
});

test('guestStats: a guest absent from the output is guest-gone; the others still have stats', async () => {
  const host = realHost();
  const { run } = fakeVirsh(host);
  const hv = backend(run);
  await hv.listGuests();
  // momd-probe-b shut down between the listing and the collection.
  host.domstats = host.domstats.replace(/Domain: 'momd-probe-b'[\s\S]*?\n\n/, '');
  const out = await hv.guestStats([A, B]);
  const gone = out.get(B);
  assert.ok(gone instanceof HypervisorError);
  assert.equal(gone.code, 'MOM_E_GUEST_GONE');
  assert.match(gone.message, /momd-probe-b/);
  assert.equal(stats(out.get(A)).balloon_cur, 250000);
});

test('guestStats: an id never listed is looked up with one more listing, then guest-gone', async () => {
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run);
  const out = await hv.guestStats([A, '11111111-2222-4333-8444-555555555555']);
  assert.deepEqual(
    commands(calls).map((c) => c[0]),
    ['list', 'domstats'],
  );
  assert.equal(stats(out.get(A)).balloon_cur, 250000);
  const unknown = out.get('11111111-2222-4333-8444-555555555555');
  assert.ok(unknown instanceof HypervisorError && unknown.code === 'MOM_E_GUEST_GONE');
});

test('guestStats: no ids, no calls', async () => {
  const { run, calls } = fakeVirsh(realHost());
  assert.equal((await backend(run).guestStats([])).size, 0);
  assert.deepEqual(calls, []);
});

for (const n of [1, 50]) {
  test(`guestStats: ONE virsh call per cycle for ${n} guest(s)`, async () => {
    const host = syntheticHost(n);
    const { run, calls } = fakeVirsh(host);
    const hv = backend(run);
    assert.equal((await hv.listGuests()).length, n);
    assert.equal(calls.length, 1);
    // The first sight of a guest also reads its XML, once in its life.
    await hv.guestStats(host.ids);
    assert.equal(calls.filter((c) => c[0] === 'dumpxml').length, n);
    for (let cycle = 0; cycle < 3; cycle++) {
      calls.length = 0;
      const out = await hv.guestStats(host.ids);
      assert.equal(calls.length, 1, `cycle ${cycle}: ${JSON.stringify(calls)}`);
      assert.equal(out.size, n);
      assert.equal(stats(out.get(host.ids[n - 1] ?? '')).balloon_cur, 524288 + n - 1);
    }
  });
}

test('statistics polling is turned on ONCE for a guest that never reports (last-update 0)', async () => {
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run, { statsPeriodS: 2 });
  await hv.listGuests();
  calls.length = 0;
  await hv.guestStats([A, B, C]);
  // momd-probe-c has last-update=0; momd-probe-a and -b reported a second ago.
  assert.deepEqual(commands(calls).slice(1), [['dommemstat', C, '--period', '2', '--live']]);
  calls.length = 0;
  await hv.guestStats([A, B, C]);
  await hv.guestStats([A, B, C]);
  assert.deepEqual(
    calls.map((c) => c[0]),
    ['domstats', 'domstats'],
  );
});

test('statistics polling is turned on for a guest whose statistics stopped refreshing (period 0)', async () => {
  let now = CAPTURED_AT;
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run, { statsPeriodS: 5, now: () => now });
  await hv.listGuests();
  await hv.guestStats([A, B]);
  calls.length = 0;
  now += 16; // the same last-update 17 s later: older than 3 periods of 5 s
  const out = await hv.guestStats([A, B]);
  assert.equal(stats(out.get(A)).stats_age_s, 17);
  assert.deepEqual(commands(calls).slice(1).sort(), [
    ['dommemstat', A, '--period', '5', '--live'],
    ['dommemstat', B, '--period', '5', '--live'],
  ]);
  calls.length = 0;
  now += 60;
  await hv.guestStats([A, B]);
  assert.equal(calls.length, 1, 'tried once per guest, not again');
});

test('a guest restarted between listings (a new QEMU pid) gets its period set again', async () => {
  const pidDir = mkdtempSync(path.join(tmpdir(), 'momd-libvirt-pids-'));
  after(() => rmSync(pidDir, { recursive: true, force: true }));
  writeFileSync(path.join(pidDir, 'momd-probe-c.pid'), '100');
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run, { pidDir });
  await hv.listGuests();
  await hv.guestStats([C]);
  await hv.listGuests();
  await hv.guestStats([C]);
  writeFileSync(path.join(pidDir, 'momd-probe-c.pid'), '200');
  await hv.listGuests();
  await hv.guestStats([C]);
  assert.equal(calls.filter((c) => c[0] === 'dommemstat').length, 2);
});

test('statsPeriodS 0 never changes a guest period', async () => {
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run, { statsPeriodS: 0, now: () => CAPTURED_AT + 1000 });
  await hv.listGuests();
  calls.length = 0;
  await hv.guestStats([A, B, C]);
  assert.equal(commands(calls).length, 1);
});

test('a failed period change is one warning; the stats are still returned', async () => {
  const warnings: string[] = [];
  const { run } = fakeVirsh(realHost(), (args) =>
    args[0] === 'dommemstat'
      ? classifyVirshFailure(
          `virsh ${args.join(' ')}`,
          'error: this function is not supported by the connection driver: virDomainSetMemoryStatsPeriod\n',
        )
      : undefined,
  );
  const hv = backend(run, { onWarning: (m) => warnings.push(m) });
  await hv.listGuests();
  const out = await hv.guestStats([C]);
  await hv.guestStats([C]);
  assert.equal(stats(out.get(C)).balloon_cur, 262144);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? '',
    /guest momd-probe-c: cannot turn on balloon statistics every 2 s.*not supported/,
  );
});

test('a guest that vanished before its period change is no warning', async () => {
  const warnings: string[] = [];
  const { run } = fakeVirsh(realHost(), (args) =>
    args[0] === 'dommemstat'
      ? classifyVirshFailure('virsh dommemstat', "error: failed to get domain 'x'")
      : undefined,
  );
  const hv = backend(run, { onWarning: (m) => warnings.push(m) });
  await hv.listGuests();
  await hv.guestStats([C]);
  assert.deepEqual(warnings, []);
});

test('guestStats: a failed domstats call fails the whole request with its code', async () => {
  for (const code of ['MOM_E_TIMEOUT', 'MOM_E_TRANSPORT'] as const) {
    const { run } = fakeVirsh(realHost(), (args) =>
      args[0] === 'domstats' ? new HypervisorError(code, 'virsh domstats: no answer') : undefined,
    );
    const hv = backend(run);
    await hv.listGuests();
    await assert.rejects(
      hv.guestStats([A]),
      (err: unknown) => err instanceof HypervisorError && err.code === code,
    );
  }
});

test('setBalloonTarget: `virsh setmem <uuid> <n>KiB --live`, whole pages, within the floor and maximum', async () => {
  const xml = { [A]: `<domain><memtune><min_guarantee>131072</min_guarantee></memtune></domain>` };
  const { run, calls } = fakeVirsh({ ...realHost(), xml });
  const hv = backend(run);
  await hv.listGuests();
  await hv.guestStats([A]);
  calls.length = 0;
  assert.equal(await hv.setBalloonTarget(A, 245760), 245760);
  assert.equal(await hv.setBalloonTarget(A, 200002.6), 200000);
  assert.equal(await hv.setBalloonTarget(A, 0), 131072, 'the guaranteed memory');
  assert.equal(await hv.setBalloonTarget(A, 10 ** 9), 262144, 'the maximum');
  assert.deepEqual(calls, [
    ['setmem', A, '245760KiB', '--live'],
    ['setmem', A, '200000KiB', '--live'],
    ['setmem', A, '131072KiB', '--live'],
    ['setmem', A, '262144KiB', '--live'],
  ]);
});

test("setBalloonTarget before any statistics asks for that domain's maximum first", async () => {
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run);
  await hv.listGuests();
  assert.equal(await hv.setBalloonTarget(B, 1), MIN_BALLOON_KIB);
  assert.deepEqual(commands(calls).slice(1), [
    ['domstats', '--raw', '--balloon', B],
    ['setmem', B, `${MIN_BALLOON_KIB}KiB`, '--live'],
  ]);
});

test('setBalloonTarget: errors keep their code (guest-gone, timeout); a bad target is an invalid argument', async () => {
  const { run, calls } = fakeVirsh(realHost(), (args) => {
    if (args[1] === B) return classifyVirshFailure('virsh setmem', "error: failed to get domain 'x'\n");
    if (args[1] === C) return new HypervisorError('MOM_E_TIMEOUT', 'virsh setmem: no answer within 10000 ms');
    return undefined;
  });
  const hv = backend(run);
  await hv.listGuests();
  await hv.guestStats([A, B, C]);
  const code = async (p: Promise<number>): Promise<string> =>
    p.then(
      () => 'ok',
      (err: unknown) => (err instanceof HypervisorError ? err.code : String(err)),
    );
  assert.equal(await code(hv.setBalloonTarget(B, 1000)), 'MOM_E_GUEST_GONE');
  assert.equal(await code(hv.setBalloonTarget(C, 1000)), 'MOM_E_TIMEOUT');
  calls.length = 0;
  assert.equal(await code(hv.setBalloonTarget(A, Number.NaN)), 'MOM_E_INVALID_ARGUMENT');
  assert.equal(await code(hv.setBalloonTarget(A, -1)), 'MOM_E_INVALID_ARGUMENT');
  assert.deepEqual(calls, [], 'a bad target never reaches virsh');
});

test('the caller abort signal reaches virsh', async () => {
  const signals: Array<AbortSignal | undefined> = [];
  const run: VirshRunner = async (args, signal) => {
    signals.push(signal);
    return args[0] === 'list' ? fixture('list-three-guests.txt') : fixture('domstats-three-guests.txt');
  };
  const hv = backend(run);
  const ac = new AbortController();
  await hv.listGuests(ac.signal);
  await hv.guestStats([A], ac.signal);
  await hv.setBalloonTarget(A, 100000, ac.signal);
  assert.ok(signals.every((s) => s === ac.signal));
});

test('close() is idempotent; afterwards requests are refused', async () => {
  const { run, calls } = fakeVirsh(realHost());
  const hv = backend(run);
  await hv.close();
  await hv.close();
  await assert.rejects(hv.listGuests(), HypervisorError);
  assert.deepEqual(calls, []);
});
