// Tests of the integration testbed itself, on real QEMU guests (TCG) and a real libvirtd. Skipped
// locally without root or QEMU; never skipped in CI (CI=true), where a missing prerequisite fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { guestImage } from './support/guest-image.js';
import {
  balloonStats,
  defineAndStartDomain,
  destroyDomain,
  ensureLibvirtd,
  listDomains,
  type DomainHandle,
  type LibvirtdHandle,
} from './support/libvirt.js';
import {
  createMemoryCgroup,
  memoryCgroupOf,
  startGuest,
  stopAll,
  type GuestHandle,
  type MemoryCgroup,
} from './support/qemu.js';
import { QmpClient } from './support/qmp.js';
import { libvirtAvailable, realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { until } from './support/wait.js';

const MiB = 1024 * 1024;
// 2^64-1, QEMU's "not available", as JSON.parse reads it
const NOT_AVAILABLE = 2 ** 64;
// Unique per run, so that a leftover of a crashed run never collides.
const RUN = `tb${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const guests = realGuestsAvailable();

describe('integration testbed (real QEMU guests)', { skip: skipUnless(guests) }, () => {
  let dir = '';
  const started: GuestHandle[] = [];
  const cgroups: MemoryCgroup[] = [];

  before(async () => {
    requireAvailable(guests);
    dir = mkdtempSync(join(tmpdir(), 'momd-testbed-'));
    await guestImage(); // build (or find in the cache) before the timed parts
  });

  after(async () => {
    await stopAll(started);
    for (const cg of cgroups) await cg.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the guest image: kernel and both initramfs variants, world-readable, in the cache', async () => {
    const image = await guestImage();
    const noBalloon = await guestImage({ balloonDriver: false });
    assert.equal(image.kernel, noBalloon.kernel);
    assert.notEqual(image.initrd, noBalloon.initrd);
    for (const f of [image.kernel, image.initrd, noBalloon.initrd, image.memload]) {
      assert.ok(existsSync(f), f);
      assert.equal(statSync(f).mode & 0o004, 0o004, `${f} must be world-readable`);
    }
    // gzip magic: the initramfs is compressed
    assert.deepEqual([...readFileSync(image.initrd).subarray(0, 2)], [0x1f, 0x8b]);
  });

  test('memload follows its pattern, prints a line per second and frees memory with --free (on the host)', async () => {
    const image = await guestImage();
    const child = spawn(image.memload, [
      '--pattern',
      '0:64,2:8',
      '--period',
      '100',
      '--free',
      '--duration',
      '6',
    ]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const pid = child.pid as number;
    const rssMiB = () =>
      Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    try {
      await until('a 64 MiB line', 10_000, async () => (/size_mib=64 /.test(out) ? true : undefined));
      assert.ok(rssMiB() > 56, `RSS ${rssMiB()} MiB while at 64 MiB`);
      await until('an 8 MiB line', 10_000, async () => (/size_mib=8 /.test(out) ? true : undefined));
      assert.ok(rssMiB() < 24, `RSS ${rssMiB()} MiB after shrinking to 8 MiB with --free`);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    for (const line of out.trim().split('\n'))
      assert.match(line, /^memload t=\d+ size_mib=(64|8) throughput_mib_s=\d+\.\d$/);
  });

  test('a memory cgroup is created with its limit and removed', async () => {
    const cg = await createMemoryCgroup(`${RUN}-limit`, 300);
    cgroups.push(cg);
    const limitFile = cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
    assert.equal(Number(readFileSync(join(cg.path, limitFile), 'utf8')), 300 * MiB);
    assert.deepEqual(await cg.pids(), []);
    await cg.remove();
    assert.ok(!existsSync(cg.path), 'cgroup folder removed');
  });

  test('a guest boots in its cgroup, prints READY, answers QMP on two sockets and runs memload', async () => {
    const cg = await createMemoryCgroup(`${RUN}-guest`, 1024);
    cgroups.push(cg);
    const guest = await startGuest({
      name: `${RUN}-a`,
      memoryMiB: 256,
      maxMemoryMiB: 320,
      balloon: true,
      statsPollingIntervalS: 1,
      swapMiB: 32,
      workload: ['--mib', '24'],
      qmpSockets: 2,
      cgroup: cg,
      dir,
    });
    started.push(guest);
    // QEMU entered the cgroup before it started (its first memory is charged there).
    assert.equal(memoryCgroupOf(guest.pid), cg.path);
    assert.deepEqual(await cg.pids(), [guest.pid]);

    const ready = await guest.waitForReady(60_000);
    assert.equal(ready.balloonDriver, true);
    assert.ok(ready.swapKiB > 30 * 1024, `swap enabled: ${ready.line}`);

    // Both sockets answer at the same time (a QMP socket serves one client at a time).
    const [q0, q1] = await Promise.all(guest.qmpPaths.map((p) => QmpClient.connect(p)));
    assert.ok(q0 && q1);
    try {
      // Booted with 320 MiB, the balloon target set to 256 MiB at start: the driver inflates.
      const actual = await until('balloon at 256 MiB', 20_000, async () => {
        const r = await q0.execute<{ actual: number }>('query-balloon');
        return r.actual === 256 * MiB ? r.actual : undefined;
      });
      assert.equal(actual, 256 * MiB);
      const again = await q1.execute<{ actual: number }>('query-balloon');
      assert.equal(again.actual, 256 * MiB);
      // The driver reports guest statistics once polling is on.
      const stats = await until('guest stats', 15_000, async () => {
        const s = await q1.execute<{ 'last-update': number; stats: Record<string, number> }>('qom-get', {
          path: '/machine/peripheral/balloon0',
          property: 'guest-stats',
        });
        return s['last-update'] > 0 ? s.stats : undefined;
      });
      const total = stats['stat-total-memory'] ?? NOT_AVAILABLE;
      assert.ok(total > 200 * MiB && total < NOT_AVAILABLE, `stat-total-memory ${total}`);
    } finally {
      q0.close();
      q1.close();
    }

    // memload: one line per second with size and throughput.
    await guest.waitForSerial(/^memload t=3 /m, 20_000);
    const lines = guest.serial().match(/^memload t=\d+ size_mib=\d+ throughput_mib_s=[\d.]+$/gm) ?? [];
    assert.ok(lines.length >= 3, guest.serial());
    for (const line of lines) assert.match(line, /size_mib=24 /);
    assert.ok(lines.some((l) => Number(/throughput_mib_s=([\d.]+)/.exec(l)?.[1]) > 0));
    assert.ok((await cg.usageBytes()) > 24 * MiB, 'the guest memory is charged to the cgroup');

    await guest.stop();
    assert.ok(!alive(guest.pid), 'QEMU ended');
    assert.ok(
      guest.qmpPaths.every((p) => !existsSync(p)) && !existsSync(guest.swapDisk ?? ''),
      'files removed',
    );
    await cg.remove();
    assert.ok(!existsSync(cg.path));
  });

  test('a guest without the balloon driver: READY says so and guest stats stay unavailable', async () => {
    const guest = await startGuest({
      name: `${RUN}-nob`,
      memoryMiB: 256,
      balloon: true,
      balloonDriver: false,
      statsPollingIntervalS: 1,
      dir,
    });
    started.push(guest);
    const ready = await guest.waitForReady(60_000);
    assert.equal(ready.balloonDriver, false);
    const q = await QmpClient.connect(guest.qmpPaths[0] as string);
    try {
      assert.equal((await q.execute<{ actual: number }>('query-balloon')).actual, 256 * MiB);
      await new Promise((r) => setTimeout(r, 1500));
      const s = await q.execute<{ 'last-update': number }>('qom-get', {
        path: '/machine/peripheral/balloon0',
        property: 'guest-stats',
      });
      assert.equal(s['last-update'], 0);
    } finally {
      q.close();
    }
    await guest.stop();
    assert.ok(!alive(guest.pid));
  });

  const libvirt = libvirtAvailable();
  describe('libvirt', { skip: skipUnless(libvirt) }, () => {
    let daemons: LibvirtdHandle | undefined;
    let domain: DomainHandle | undefined;
    const name = `${RUN}-lv`;

    before(async () => {
      requireAvailable(libvirt);
      daemons = await ensureLibvirtd();
    });

    after(async () => {
      if (domain) await destroyDomain(name);
      await daemons?.stop();
    });

    test('a transient domain starts, is listed by domstats --balloon, and is destroyed', async () => {
      domain = await defineAndStartDomain({
        name,
        memoryMiB: 320,
        currentMiB: 256,
        balloon: true,
        statsPeriod: 2,
        dir,
      });
      assert.ok(domain.pid !== undefined && alive(domain.pid), 'QEMU runs');
      const ready = await domain.waitForReady(60_000);
      assert.equal(ready.balloonDriver, true);
      const stats = await until('balloon stats', 20_000, async () => {
        const s = (await balloonStats([name]))[name];
        return s && s['balloon.current'] === 256 * 1024 && (s['balloon.last-update'] ?? 0) > 0
          ? s
          : undefined;
      });
      assert.equal(stats['balloon.maximum'], 320 * 1024);
      assert.ok((stats['balloon.available'] ?? 0) > 0);

      const pid = domain.pid;
      await domain.destroy();
      domain = undefined;
      assert.ok(!(await listDomains()).includes(name));
      assert.ok(!alive(pid), 'QEMU ended');
    });
  });
});
