// The Hypervisor contract on a real libvirtd with real QEMU guests (TCG), and the guaranteed
// memory of a domain binding whatever a policy asks: the daemon's engine, its Balloon controller
// and the libvirt backend together never take the guest under it.
import assert from 'node:assert/strict';
import { mkdtempSync, chmodSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { realClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { runTasks } from '../../src/engine/scheduler.js';
import { createLibvirtBackend } from '../../src/hypervisors/libvirt/index.js';
import { createSimulatedBackend } from '../../src/hypervisors/simulated/index.js';
import { createSimulation } from '../../src/sim/index.js';
import { runHypervisorContract } from '../hypervisors/contract.js';
import { idleGuest, tinyScenario } from '../support/sim-testkit.js';
import { guestImage } from './support/guest-image.js';
import {
  defineAndStartDomain,
  destroyDomain,
  ensureLibvirtd,
  type DomainHandle,
  type LibvirtdHandle,
} from './support/libvirt.js';
import { libvirtAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { latestMeminfo, until } from './support/wait.js';

const MiB = 1024;
const RUN = `momct${process.pid}`;
const available = libvirtAvailable();
const name = (n: string): string => `${RUN}-${n}`;

runHypervisorContract(
  'libvirt on a real libvirtd',
  async () => {
    requireAvailable(available);
    await guestImage();
    await guestImage({ balloonDriver: false });
    const daemons: LibvirtdHandle = await ensureLibvirtd();
    const dir = mkdtempSync(join(tmpdir(), 'momd-libvirt-contract-'));
    chmodSync(dir, 0o755);
    const start = (
      n: string,
      mib: number,
      extra: { balloonDriver?: boolean; guaranteeMiB?: number; swapMiB?: number } = {},
    ) =>
      defineAndStartDomain({ name: name(n), memoryMiB: mib, balloon: true, statsPeriod: 2, dir, ...extra });
    const domains: DomainHandle[] = await Promise.all([
      start('drv', 320, { guaranteeMiB: 200 }),
      // A disk for the io-tune case (the guest makes it swap, which nothing here uses).
      start('nodrv', 256, { balloonDriver: false, swapMiB: 16 }),
      start('tmp', 256),
    ]);
    await Promise.all(domains.map((d) => d.waitForReady(90_000)));
    const hypervisor = createLibvirtBackend();
    return {
      hypervisor,
      withDriver: { name: name('drv'), maxKib: 320 * MiB, floorKib: 200 * MiB },
      withoutDriver: { name: name('nodrv'), maxKib: 256 * MiB, floorKib: null },
      disposable: { name: name('tmp'), end: async () => void (await destroyDomain(name('tmp'))) },
      tuning: { cpuGuest: name('drv'), disk: { guest: name('nodrv'), name: 'vda' } },
      settle: () => new Promise((r) => setTimeout(r, 500)),
      close: async () => {
        await hypervisor.close();
        for (const d of domains) await destroyDomain(d.name).catch(() => false);
        await daemons.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { skipAll: skipUnless(available), moveTimeoutMs: 45_000, timeoutMs: 300_000 },
);

describe(
  'a guaranteed domain on a real libvirtd is never ballooned under its guarantee',
  { skip: skipUnless(available), timeout: 240_000 },
  () => {
    let daemons: LibvirtdHandle | undefined;
    let domain: DomainHandle | undefined;
    let dir = '';
    const sizeMiB = 320;
    const guaranteeMiB = 224;

    before(async () => {
      requireAvailable(available);
      await guestImage();
      daemons = await ensureLibvirtd();
      dir = mkdtempSync(join(tmpdir(), 'momd-libvirt-floor-'));
      chmodSync(dir, 0o755);
      domain = await defineAndStartDomain({
        name: name('floor'),
        memoryMiB: sizeMiB,
        balloon: true,
        statsPeriod: 1,
        guaranteeMiB,
        dir,
      });
      await domain.waitForReady(90_000);
    });

    after(async () => {
      if (domain) await destroyDomain(domain.name).catch(() => false);
      await daemons?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('a policy asking for 96 MiB gets the guarantee (224 MiB): balloon_min says so, the guest shrinks to it and no further', async (t) => {
      const d = domain as DomainHandle;
      const full = await until('meminfo', 20_000, () => latestMeminfo(d.serial()));
      const hypervisor = createLibvirtBackend();
      // The host side does not matter here: a simulated one, so that nothing on this machine changes.
      const { host } = createSimulatedBackend(createSimulation(tinyScenario([idleGuest('x')])));
      const engine = createEngine({
        settings: {
          hostMonitorInterval: 1,
          guestMonitorInterval: 1,
          guestManagerInterval: 1,
          policyEngineInterval: 2,
          mainLoopInterval: 5,
          sampleHistoryLength: 3,
          hostCollectors: ['HostMemory'],
          guestCollectors: ['GuestMemory', 'GuestBalloon'],
          controllers: ['Balloon'],
        },
        hypervisor,
        host,
        now: () => realClock.now(),
        log: pino({ level: 'silent' }),
        policy: [
          {
            file: 'squeeze.policy',
            text: `(with Guests g (if (== (g.Prop "name") "${d.name}") (g.Control "balloon_target" 98304) 0))`,
          },
        ],
      });
      const seen: Array<{ min: unknown; cur: unknown }> = [];
      engine.events.on('collection', (e) => {
        if (e.entity === d.name && e.sample)
          seen.push({ min: e.sample['balloon_min'], cur: e.sample['balloon_cur'] });
      });
      const sent: number[] = [];
      engine.events.on('outcome', (o) => {
        if (o.entity === d.name && o.outcome === 'applied' && o.new !== null) sent.push(o.new);
      });
      const stop = new AbortController();
      const running = runTasks(engine.tasks, realClock, stop.signal, { onError: () => {} });
      try {
        // The balloon takes what the guarantee leaves (320 - 224 = 96 MiB), and under TCG it
        // inflates over seconds: wait until the guest's MemTotal has come down by all of it, not
        // for the first reading past some part of the way (a clean-clone run caught the balloon
        // still filling and read the rest of its way down as "further").
        const spareKib = (sizeMiB - guaranteeMiB) * MiB;
        const shrunk = await until('the guest at its guarantee', 90_000, () => {
          const m = latestMeminfo(d.serial());
          return m && m.totalKiB <= full.totalKiB - spareKib + 4 * MiB ? m : undefined;
        });
        // Let the daemon go on for a few cycles: it must not push further.
        await new Promise((r) => setTimeout(r, 8000));
        const last = latestMeminfo(d.serial());
        t.diagnostic(
          `MemTotal ${full.totalKiB} KiB at ${sizeMiB} MiB, ${shrunk.totalKiB} at the guarantee, ${last?.totalKiB} 8 s later`,
        );
        assert.ok(
          last && last.totalKiB >= full.totalKiB - spareKib - 4 * MiB,
          `MemTotal ${last?.totalKiB} KiB after ${shrunk.totalKiB} KiB, from ${full.totalKiB} KiB at ${sizeMiB} MiB: ` +
            `the balloon took more than the ${spareKib} KiB above the guarantee`,
        );
      } finally {
        stop.abort();
        await running;
        await hypervisor.close();
      }
      assert.ok(
        seen.length > 0 && seen.every((s) => s.min === guaranteeMiB * MiB),
        JSON.stringify(seen.slice(0, 3)),
      );
      assert.ok(
        sent.length >= 1 && sent.every((kib) => kib === guaranteeMiB * MiB),
        `targets sent: ${sent.join(', ')}`,
      );
      assert.ok(
        seen.every((s) => typeof s.cur === 'number' && s.cur >= guaranteeMiB * MiB - 4),
        'never under the guarantee',
      );
    });
  },
);
