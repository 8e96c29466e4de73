// The libvirt backend on a real libvirtd with real QEMU guests (TCG): discovery and lifecycle,
// statistics against the guest's own /proc/meminfo, the statistics period turned on for a domain
// that has it off, balloon shrink and grow, and one bulk statistics call per cycle. Then momd itself
// on this libvirtd while libvirtd is stopped and started again under it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GuestReading } from '../../src/fields/catalogue.js';
import { HypervisorError, type Hypervisor } from '../../src/hypervisors/hypervisor.js';
import { createLibvirtBackend } from '../../src/hypervisors/libvirt/index.js';
import { createVirshRunner } from '../../src/hypervisors/libvirt/virsh.js';
import { guestImage } from './support/guest-image.js';
import {
  defineAndStartDomain,
  destroyDomain,
  ensureLibvirtd,
  type DomainHandle,
  type LibvirtdHandle,
} from './support/libvirt.js';
import { libvirtAvailable, realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { startMomd } from './support/momd-process.js';
import { latestMeminfo, until } from './support/wait.js';

const MiB = 1024;
const RUN = `momit${process.pid}`;
const availability = (() => {
  const g = realGuestsAvailable();
  return g.ok ? libvirtAvailable() : g;
})();

describe('libvirt backend on a real libvirtd', { skip: skipUnless(availability) }, () => {
  let dir = '';
  let daemons: LibvirtdHandle | undefined;
  /** The libvirtd started again by the restart test, to stop at the end. */
  let restarted: LibvirtdHandle | undefined;
  const domains: DomainHandle[] = [];
  let backend: Hypervisor;
  const virshCalls: string[][] = [];
  const warnings: string[] = [];
  const name = (n: string) => `${RUN}-${n}`;
  /** A domain by its short name (the order of `domains` depends on which boot finished first). */
  const domain = (n: string): DomainHandle => {
    const d = domains.find((x) => x.name === name(n));
    assert.ok(d, n);
    return d;
  };

  const start = async (n: string, opts: { statsPeriod?: number } = {}) => {
    const d = await defineAndStartDomain({
      name: name(n),
      memoryMiB: 320,
      currentMiB: 320,
      balloon: true,
      dir,
      ...(opts.statsPeriod !== undefined ? { statsPeriod: opts.statsPeriod } : {}),
    });
    domains.push(d);
    await d.waitForReady(90_000);
    return d;
  };
  const ours = async () => (await backend.listGuests()).filter((g) => g.name.startsWith(RUN));
  const statsOf = async (n: string): Promise<GuestReading | HypervisorError | undefined> => {
    const g = (await ours()).find((x) => x.name === name(n));
    return g === undefined ? undefined : (await backend.guestStats([g.id])).get(g.id);
  };

  before(async () => {
    requireAvailable(availability);
    await guestImage();
    daemons = await ensureLibvirtd();
    dir = mkdtempSync(join(tmpdir(), 'momd-libvirt-'));
    chmodSync(dir, 0o755);
    const runner = createVirshRunner({ uri: 'qemu:///system', timeoutMs: 20_000 });
    backend = createLibvirtBackend({
      virsh: (args, signal) => {
        virshCalls.push(args);
        return runner(args, signal);
      },
      onWarning: (m) => warnings.push(m),
    });
    // 'quiet' has its statistics period at 0: the backend must turn it on.
    await Promise.all([start('one', { statsPeriod: 2 }), start('quiet', { statsPeriod: 0 })]);
  });

  after(async () => {
    await backend?.close();
    for (const d of domains) await destroyDomain(d.name).catch(() => false);
    await restarted?.stop();
    await daemons?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('lists the running domains with name, uuid and QEMU pid', async () => {
    const listed = await ours();
    assert.deepEqual(listed.map((g) => g.name).sort(), [name('one'), name('quiet')]);
    for (const d of domains) {
      const g = listed.find((l) => l.name === d.name);
      assert.equal(g?.pid, d.pid);
      assert.match(g?.uuid ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  test('statistics agree with the guest, and a domain with period 0 gets it turned on', async () => {
    for (const n of ['one', 'quiet']) {
      const d = domain(n);
      const s = await until(`${n} fresh statistics`, 60_000, async () => {
        const r = await statsOf(n);
        // A guest whose period is 0 reported once, at boot: its statistics only refresh after the
        // backend notices they are stale and turns the period on.
        const refreshed =
          n === 'one' || virshCalls.some((a) => a.includes('dommemstat') && a.includes('--period'));
        return r &&
          !(r instanceof HypervisorError) &&
          r.mem_available !== null &&
          (r.stats_age_s ?? 99) < 5 &&
          refreshed
          ? r
          : undefined;
      });
      const own = await until('meminfo line', 10_000, () => latestMeminfo(d.serial()));
      assert.equal(s.balloon_cur, 320 * MiB);
      assert.ok(
        Math.abs((s.mem_available ?? 0) - own.totalKiB) <= 1024,
        `${n}: ${s.mem_available} vs ${own.totalKiB}`,
      );
      assert.ok(
        Math.abs((s.mem_unused ?? 0) - own.freeKiB) <= 16 * MiB,
        `${n}: ${s.mem_unused} vs ${own.freeKiB}`,
      );
    }
    assert.ok(virshCalls.some((a) => a.includes('dommemstat') && a.includes('--period')));
  });

  test('one virsh statistics call per cycle, whatever the number of guests', async () => {
    const ids = (await ours()).map((g) => g.id);
    const before = virshCalls.length;
    await backend.guestStats(ids);
    assert.equal(virshCalls.length - before, 1);
  });

  test('setting the balloon live shrinks the guest, and growing it back works', async () => {
    const d = domain('one');
    const g = (await ours()).find((x) => x.name === d.name);
    assert.ok(g);
    const before = await until('meminfo line', 10_000, () => latestMeminfo(d.serial()));
    await backend.setBalloonTarget(g.id, 220 * MiB);
    await until('guest MemTotal to drop', 45_000, () => {
      const m = latestMeminfo(d.serial());
      return m && m.totalKiB <= before.totalKiB - 80 * MiB ? m : undefined;
    });
    await backend.setBalloonTarget(g.id, 320 * MiB);
    await until('guest MemTotal to come back', 45_000, () => {
      const m = latestMeminfo(d.serial());
      return m && m.totalKiB >= before.totalKiB - 4 * MiB ? m : undefined;
    });
  });

  test('a domain destroyed during the run is reported gone, and one started is found', async () => {
    const quiet = (await ours()).find((x) => x.name === name('quiet'));
    assert.ok(quiet);
    await destroyDomain(name('quiet'));
    const s = (await backend.guestStats([quiet.id])).get(quiet.id);
    assert.ok(s instanceof HypervisorError && s.code === 'MOM_E_GUEST_GONE');
    await start('late', { statsPeriod: 2 });
    assert.deepEqual((await ours()).map((x) => x.name).sort(), [name('late'), name('one')]);
  });

  test('momd on this libvirtd: libvirtd stopped under it is reported once, and momd carries on when it is back', async () => {
    const conf = join(dir, 'mom.conf');
    writeFileSync(join(dir, 'keep.policy'), '(with Guests g (g.Control "balloon_target" g.balloon_cur))\n');
    writeFileSync(
      conf,
      [
        '[main]',
        'hypervisor-interface: libvirt',
        'libvirt-hypervisor-uri: qemu:///system',
        'controllers: Balloon',
        `policy: ${join(dir, 'keep.policy')}`,
        `api-socket: ${join(dir, 'api.sock')}`,
        'host-monitor-interval: 1',
        'guest-monitor-interval: 1',
        'guest-manager-interval: 1',
        'policy-engine-interval: 2',
        'pressure-check-interval: 0',
        '',
      ].join('\n'),
    );
    const momd = startMomd(['-c', conf]);
    try {
      const withGuests = (from: number) =>
        momd.waitFor(
          'a cycle with our guests',
          (l) => l['cycle'] === true && Number(l['guests']) >= 2,
          60_000,
          from,
        );
      await withGuests(0);
      const pid = Number(readFileSync('/run/libvirtd.pid', 'utf8').trim());
      const from = momd.log.length;
      process.kill(pid, 'SIGTERM');
      await until('libvirtd gone', 30_000, () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
      const failed = await momd.waitFor(
        'a task failing while libvirtd is down',
        (l) => /^task \S+ failed: /.test(String(l['msg'])),
        30_000,
        from,
      );
      assert.equal(failed['code'], 'MOM_E_TRANSPORT', JSON.stringify(failed));
      const downAt = momd.log.length;
      restarted = await ensureLibvirtd();
      await momd.waitFor(
        'the task working again',
        (l) => /^task \S+ works again$/.test(String(l['msg'])),
        60_000,
        downAt,
      );
      await withGuests(downAt);
      // Said once per task while it failed, not every second.
      const failures = momd.log
        .slice(from)
        .filter((l) => /^task \S+ failed: /.test(String(l['msg'])) && l['level'] !== 20);
      const tasks = new Set(failures.map((l) => String(l['task'])));
      assert.ok(
        failures.length <= tasks.size * 3,
        `${failures.length} failure lines for ${tasks.size} tasks`,
      );
      assert.equal(momd.child.exitCode, null, 'momd still runs');
    } finally {
      assert.equal(await momd.stop(), 0);
    }
  });
});
