// CPU and I/O tuning on real guests (TCG): the engine with GuestCpuTune and GuestIoTune, the
// CpuTune and IoTune controllers and a policy in the style of vdsm's 04-cputune and 05-iotune
// (MOM's setters on io_tune). On a real libvirtd the limits come from oVirt's tune metadata and
// land in `virsh schedinfo` and `virsh blkdeviotune`; on plain QEMU the quota lands in the QEMU's
// own CPU cgroup and the throttle in query-block. After they land, later cycles send nothing.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { realClock } from '../../src/clock.js';
import type { Outcome } from '../../src/controllers/controller.js';
import { createEngine } from '../../src/engine/engine.js';
import { runTasks } from '../../src/engine/scheduler.js';
import type { Hypervisor } from '../../src/hypervisors/hypervisor.js';
import { createLibvirtBackend } from '../../src/hypervisors/libvirt/index.js';
import { createQmpBackend } from '../../src/hypervisors/qmp/index.js';
import { createSimulatedBackend } from '../../src/hypervisors/simulated/index.js';
import { createSimulation } from '../../src/sim/index.js';
import { idleGuest, tinyScenario } from '../support/sim-testkit.js';
import { guestImage } from './support/guest-image.js';
import {
  defineAndStartDomain,
  destroyDomain,
  ensureLibvirtd,
  virsh,
  type DomainHandle,
  type LibvirtdHandle,
} from './support/libvirt.js';
import { QmpClient } from './support/qmp.js';
import { startGuest, stopAll, type GuestHandle } from './support/qemu.js';
import { libvirtAvailable, realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { until } from './support/wait.js';

const RUN = `momtune${process.pid}`;

// Our own policy in the manner of vdsm's: a quota from the administrator's limit and the vCPU
// count, and through MOM's setters each disk's bytes to its maximum (nil, left alone, where the
// disk has none) and its operations to 150 a second.
const POLICY = `
(with Guests guest {
  (guest.Control "vcpu_quota" (/ (* guest.vcpu_user_limit 500) guest.vcpu_count))
  (guest.Control "vcpu_period" 100000)
  (if (valid guest.io_tune)
    (with guest.io_tune tune {
      (defvar top tune.maximum)
      (tune.setTotalBytesSec top.total_bytes_sec)
      (tune.setTotalIopsSec 150)
    })
    0)
})
`;

/** Runs the engine on `hypervisor` until `done` holds (or the time runs out), then a few more cycles. */
async function runEngine(
  hypervisor: Hypervisor,
  guest: string,
  done: () => Promise<boolean>,
): Promise<Outcome[]> {
  // The host side does not matter here: a simulated one, so that nothing on this machine changes.
  const { host } = createSimulatedBackend(createSimulation(tinyScenario([idleGuest('x')])));
  const engine = createEngine({
    settings: {
      hostMonitorInterval: 1,
      guestMonitorInterval: 1,
      guestManagerInterval: 1,
      policyEngineInterval: 1,
      mainLoopInterval: 5,
      sampleHistoryLength: 3,
      hostCollectors: ['HostMemory'],
      guestCollectors: ['GuestBalloon', 'GuestCpuTune', 'GuestIoTune'],
      controllers: ['CpuTune', 'IoTune'],
    },
    hypervisor,
    host,
    now: () => realClock.now(),
    log: pino({ level: 'silent' }),
    policy: [{ file: 'tune.policy', text: POLICY }],
  });
  const outcomes: Outcome[] = [];
  engine.events.on('outcome', (o) => {
    if (o.entity === guest) outcomes.push(o);
  });
  const stop = new AbortController();
  const running = runTasks(engine.tasks, realClock, stop.signal, { onError: () => {} });
  try {
    await until('the limits in force', 60_000, async () => ((await done()) ? true : undefined));
    const before = outcomes.length;
    await until('three more cycles', 30_000, () =>
      outcomes.slice(before).filter((o) => o.control === 'vcpu_quota').length >= 3 ? true : undefined,
    );
  } finally {
    stop.abort();
    await running;
  }
  return outcomes;
}

/** After the limits landed: only unchanged outcomes, nothing sent again. */
function assertSettled(outcomes: readonly Outcome[]): void {
  const applied = outcomes.filter((o) => o.outcome === 'applied');
  assert.ok(
    applied.some((o) => o.control === 'vcpu_quota'),
    JSON.stringify(outcomes.slice(0, 4)),
  );
  assert.ok(
    applied.some((o) => o.control.startsWith('io_tune[')),
    JSON.stringify(outcomes.slice(0, 4)),
  );
  const failed = outcomes.filter((o) => o.outcome === 'failed' || o.outcome === 'skipped');
  assert.deepEqual(failed, [], 'nothing failed or was skipped');
  const last = outcomes.slice(-4);
  assert.ok(
    last.every((o) => o.outcome === 'unchanged'),
    `level-based: once in force, nothing is sent again: ${JSON.stringify(last)}`,
  );
  for (const control of ['vcpu_quota', 'vcpu_period']) {
    assert.ok(applied.filter((o) => o.control === control).length <= 1, `${control} sent at most once`);
  }
}

describe(
  'CPU and I/O tuning on a real libvirtd',
  { skip: skipUnless(libvirtAvailable()), timeout: 240_000 },
  () => {
    let daemons: LibvirtdHandle | undefined;
    let domain: DomainHandle | undefined;
    let dir = '';

    before(async () => {
      requireAvailable(libvirtAvailable());
      await guestImage();
      daemons = await ensureLibvirtd();
      dir = mkdtempSync(join(tmpdir(), 'momd-tuning-'));
      chmodSync(dir, 0o755);
      domain = await defineAndStartDomain({
        name: `${RUN}-lv`,
        memoryMiB: 256,
        balloon: true,
        statsPeriod: 2,
        vcpus: 2,
        swapMiB: 32,
        dir,
      });
      await domain.waitForReady(90_000);
      // What oVirt's vdsm keeps for the VM: a 50% CPU limit and the disk's bounds.
      await virsh([
        'metadata',
        domain.name,
        '--uri',
        'http://ovirt.org/vm/tune/1.0',
        '--key',
        'ovirt-tune',
        '--live',
        '--set',
        '<qos><vcpuLimit>50</vcpuLimit><ioTune><device name="vda"><maximum>' +
          '<total_bytes_sec>8388608</total_bytes_sec>' +
          '</maximum></device></ioTune></qos>',
      ]);
    });

    after(async () => {
      if (domain) await destroyDomain(domain.name).catch(() => false);
      await daemons?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test("vdsm's way: the quota from oVirt's vcpuLimit and vCPUs, the disk at its maximum; then nothing more", async () => {
      const d = domain as DomainHandle;
      const hypervisor = createLibvirtBackend();
      const field = (text: string, key: string): string | undefined =>
        new RegExp(`^${key}\\s*:\\s*(\\S+)`, 'm').exec(text)?.[1];
      let outcomes: Outcome[];
      try {
        outcomes = await runEngine(hypervisor, d.name, async () => {
          const s = await virsh(['schedinfo', d.name, '--live']);
          const b = await virsh(['blkdeviotune', d.name, 'vda', '--live']);
          return field(s, 'vcpu_quota') === '12500' && field(b, 'total_iops_sec') === '150';
        });
      } finally {
        await hypervisor.close();
      }
      // 50% × 500 / 2 vCPUs.
      const s = await virsh(['schedinfo', d.name, '--live']);
      assert.equal(field(s, 'vcpu_quota'), '12500');
      assert.equal(field(s, 'vcpu_period'), '100000');
      const b = await virsh(['blkdeviotune', d.name, 'vda', '--live']);
      assert.equal(field(b, 'total_bytes_sec'), '8388608');
      assert.equal(field(b, 'total_iops_sec'), '150');
      assertSettled(outcomes);
    });
  },
);

describe(
  'CPU and I/O tuning on plain QEMU (qmp)',
  { skip: skipUnless(realGuestsAvailable()), timeout: 180_000 },
  () => {
    let guest: GuestHandle | undefined;
    let dir = '';
    const cpuCgroup = `/sys/fs/cgroup/cpu/momd-testbed-${RUN}`;

    before(async () => {
      requireAvailable(realGuestsAvailable());
      await guestImage();
      dir = mkdtempSync(join(tmpdir(), 'momd-tuning-qmp-'));
      guest = await startGuest({
        name: 'tq',
        memoryMiB: 256,
        balloon: true,
        qmpSockets: 2,
        smp: 2,
        swapMiB: 32,
        dir,
      });
      await guest.waitForReady(60_000);
      // A CPU cgroup of its own, as Proxmox gives each VM a scope (cgroup v1 here: testbed.md).
      await mkdir(cpuCgroup);
      await writeFile(join(cpuCgroup, 'cgroup.procs'), String(guest.pid));
    });

    after(async () => {
      await stopAll([guest]);
      await rmdir(cpuCgroup).catch(() => {});
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('the quota lands in the QEMU cgroup (per vCPU × vCPUs), the throttle in query-block; then nothing more', async () => {
      const g = guest as GuestHandle;
      const hypervisor = createQmpBackend({ socketGlob: join(dir, '*.qmp0.sock') });
      const qmp = await QmpClient.connect(g.qmpPaths[1] as string);
      const quota = async (): Promise<string> =>
        (await readFile(join(cpuCgroup, 'cpu.cfs_quota_us'), 'utf8')).trim();
      // Plain QEMU has no administrator's limit: vcpu_user_limit is 100, 100 × 500 / 2 = 25000 per vCPU.
      let outcomes: Outcome[];
      try {
        outcomes = await runEngine(hypervisor, 'tq', async () => {
          const blocks = (await qmp.execute('query-block')) as Array<{
            device: string;
            inserted?: { iops: number };
          }>;
          return (
            (await quota()) === '50000' && blocks.find((b) => b.device === 'swap0')?.inserted?.iops === 150
          );
        });
      } finally {
        await hypervisor.close();
      }
      try {
        assert.equal(await quota(), '50000');
        assert.equal((await readFile(join(cpuCgroup, 'cpu.cfs_period_us'), 'utf8')).trim(), '100000');
        // No oVirt metadata on plain QEMU: the bytes limit (a nil maximum) stays 0, the iops one is set.
        const blocks = (await qmp.execute('query-block')) as Array<{
          device: string;
          inserted?: { bps: number; iops: number };
        }>;
        const swap = blocks.find((b) => b.device === 'swap0')?.inserted;
        assert.deepEqual([swap?.bps, swap?.iops], [0, 150]);
      } finally {
        qmp.close();
      }
      assertSettled(outcomes);
    });
  },
);
