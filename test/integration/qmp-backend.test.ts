// The QMP backend on real QEMU guests (TCG): discovery and lifecycle, statistics against the
// guest's own /proc/meminfo, balloon shrink and grow, and a guest killed in the middle of a cycle.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GuestReading } from '../../src/fields/catalogue.js';
import { HypervisorError, type Hypervisor } from '../../src/hypervisors/hypervisor.js';
import { createQmpBackend } from '../../src/hypervisors/qmp/index.js';
import { guestImage } from './support/guest-image.js';
import { startGuest, stopAll, type GuestHandle } from './support/qemu.js';
import { realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { latestMeminfo, until } from './support/wait.js';

const MiB = 1024;
const available = realGuestsAvailable();

describe('QMP backend on real QEMU guests', { skip: skipUnless(available) }, () => {
  let dir = '';
  const guests: GuestHandle[] = [];
  /** Guests by name (the order of `guests` depends on which boot finished first). */
  const byName = (name: string): GuestHandle => {
    const g = guests.find((x) => x.name === name);
    assert.ok(g, name);
    return g;
  };
  let backend: Hypervisor;
  const warnings: string[] = [];

  const start = async (name: string, memoryMiB: number) => {
    const g = await startGuest({ name, memoryMiB, balloon: true, qmpSockets: 2, dir });
    guests.push(g);
    await g.waitForReady(60_000);
    return g;
  };
  const idOf = async (name: string): Promise<string | undefined> =>
    (await backend.listGuests()).find((g) => g.name === name)?.id;
  const statsOf = async (name: string): Promise<GuestReading | HypervisorError | undefined> => {
    const id = await idOf(name);
    return id === undefined ? undefined : (await backend.guestStats([id])).get(id);
  };

  before(async () => {
    requireAvailable(available);
    await guestImage();
    dir = mkdtempSync(join(tmpdir(), 'momd-qmp-'));
    // The daemon's sockets are *.qmp0.sock; the tests keep *.qmp1.sock for themselves.
    backend = createQmpBackend({ socketGlob: join(dir, '*.qmp0.sock'), onWarning: (m) => warnings.push(m) });
    await Promise.all([start('alpha', 320), start('beta', 256)]);
  });

  after(async () => {
    await backend?.close();
    await stopAll(guests);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('lists the running guests with name and QEMU pid', async () => {
    const listed = await backend.listGuests();
    assert.deepEqual(listed.map((g) => g.name).sort(), ['alpha', 'beta']);
    for (const g of guests) assert.equal(listed.find((l) => l.name === g.name)?.pid, g.pid);
  });

  test('statistics agree with what the guest itself reports', async () => {
    const alpha = byName('alpha');
    const stats = await until('guest statistics', 30_000, async () => {
      const s = await statsOf('alpha');
      return s && !(s instanceof HypervisorError) && s.mem_available !== null && s.stats_age_s !== null
        ? s
        : undefined;
    });
    const own = await until('meminfo line', 10_000, () => latestMeminfo(alpha.serial()));
    assert.equal(stats.balloon_cur, 320 * MiB);
    assert.equal(stats.balloon_max, 320 * MiB);
    assert.ok(
      Math.abs((stats.mem_available ?? 0) - own.totalKiB) <= 1024,
      `${stats.mem_available} vs ${own.totalKiB}`,
    );
    // Free memory moves a little between the two readings of an idle guest.
    assert.ok(
      Math.abs((stats.mem_unused ?? 0) - own.freeKiB) <= 16 * MiB,
      `${stats.mem_unused} vs ${own.freeKiB}`,
    );
    assert.ok((stats.rss ?? 0) > 32 * MiB, 'the host knows the QEMU process RSS');
    assert.ok((stats.stats_age_s ?? 99) < 10);
  });

  test('a balloon target shrinks the guest, and growing it back works', async () => {
    const alpha = byName('alpha');
    const id = (await idOf('alpha')) as string;
    const before = await until('meminfo line', 10_000, () => latestMeminfo(alpha.serial()));
    await backend.setBalloonTarget(id, 200 * MiB);
    const shrunk = await until('guest MemTotal to drop', 30_000, () => {
      const m = latestMeminfo(alpha.serial());
      return m && m.totalKiB <= before.totalKiB - 100 * MiB ? m : undefined;
    });
    assert.ok(shrunk.totalKiB < before.totalKiB);
    const cur = await until('balloon_cur at the target', 30_000, async () => {
      const s = await statsOf('alpha');
      return s && !(s instanceof HypervisorError) && s.balloon_cur === 200 * MiB ? s.balloon_cur : undefined;
    });
    assert.equal(cur, 200 * MiB);
    await backend.setBalloonTarget(id, 320 * MiB);
    await until('guest MemTotal to come back', 30_000, () => {
      const m = latestMeminfo(alpha.serial());
      return m && m.totalKiB >= before.totalKiB - 4 * MiB ? m : undefined;
    });
  });

  test('a guest started and one stopped during the run are noticed', async () => {
    await start('gamma', 256);
    await until('gamma listed', 20_000, async () => ((await idOf('gamma')) ? true : undefined));
    const betaId = (await idOf('beta')) as string;
    await byName('beta').stop();
    await until('beta gone from the list', 20_000, async () => ((await idOf('beta')) ? undefined : true));
    const s = (await backend.guestStats([betaId])).get(betaId);
    assert.ok(s instanceof HypervisorError && s.code === 'MOM_E_GUEST_GONE');
    assert.deepEqual((await backend.listGuests()).map((g) => g.name).sort(), ['alpha', 'gamma']);
  });

  test('a guest killed in the middle of a statistics call is reported gone; the others are read', async () => {
    const gamma = byName('gamma');
    const ids = (await backend.listGuests()).map((g) => g.id);
    const call = backend.guestStats(ids);
    process.kill(gamma.pid, 'SIGKILL');
    const result = await call;
    const again = await backend.guestStats(ids);
    const alphaId = (await idOf('alpha')) as string;
    assert.ok(!(again.get(alphaId) instanceof HypervisorError), 'alpha is still read');
    const gammaAfter = [...again.entries()].find(([id]) => id !== alphaId)?.[1];
    assert.ok(gammaAfter instanceof HypervisorError && gammaAfter.code === 'MOM_E_GUEST_GONE');
    assert.equal(result.size, ids.length);
  });
});
