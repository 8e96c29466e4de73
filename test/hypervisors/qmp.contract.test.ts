// The QMP backend against the Hypervisor contract, on fake QMP servers that behave like QEMU 7.2
// (the same suite runs on real QEMU guests in test/integration/qmp-contract.test.ts).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createQmpBackend } from '../../src/hypervisors/qmp/index.js';
import { fakeDrive, fakeGuest, FakeQmpServer, type FakeBalloon } from '../support/fake-qmp-server.js';
import { runHypervisorContract } from './contract.js';

const MiB = 1024;
const B = 1024 * 1024;
const NA = 2n ** 64n - 1n;

runHypervisorContract('qmp on a fake QMP server', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'momd-qmp-contract-'));
  const now = (): number => Math.floor(Date.now() / 1000);
  const balloon = (bytes: number, driver: boolean): FakeBalloon => ({
    id: 'balloon0',
    type: 'virtio-balloon-pci',
    actualBytes: bytes,
    pollingInterval: 0,
    lastUpdate: driver ? now() : 0,
    driver,
    stats: driver
      ? {
          'stat-total-memory': bytes - 20 * B,
          'stat-free-memory': bytes / 2,
          'stat-available-memory': (bytes * 3) / 5,
          'stat-disk-caches': 8 * B,
          'stat-swap-in': 0,
          'stat-swap-out': 0,
          'stat-major-faults': 10,
          'stat-minor-faults': 5000,
        }
      : { 'stat-total-memory': NA, 'stat-free-memory': NA, 'stat-swap-in': NA, 'stat-major-faults': NA },
  });
  // A /proc in which each fake guest has a QEMU process naming its socket, as real ones do, and a
  // cgroup v1 tree in which the guest with the driver has a CPU cgroup of its own (the others are
  // in the root one: no CPU limit of their own).
  const proc = path.join(dir, 'proc');
  const cgroupRoot = path.join(dir, 'cgroup');
  const scope = path.join(cgroupRoot, 'cpu,cpuacct', 'qemu.slice', '100.scope');
  await mkdir(scope, { recursive: true });
  await writeFile(path.join(scope, 'cpu.cfs_quota_us'), '-1\n');
  await writeFile(path.join(scope, 'cpu.cfs_period_us'), '100000\n');
  let nextPid = 4000;
  const start = async (file: string, name: string, mib: number, driver: boolean): Promise<FakeQmpServer> => {
    const pid = nextPid++;
    await mkdir(path.join(proc, String(pid)), { recursive: true });
    await writeFile(
      path.join(proc, String(pid), 'cgroup'),
      driver && name === 'drv'
        ? '4:cpu,cpuacct:/qemu.slice/100.scope\n3:memory:/qemu.slice/100.scope\n0::/qemu.slice/100.scope\n'
        : '4:cpu,cpuacct:/\n3:memory:/\n0::/\n',
    );
    const args = [
      'qemu-system-x86_64',
      '-name',
      name,
      '-qmp',
      `unix:${path.join(dir, file)},server=on,wait=off`,
    ];
    await writeFile(path.join(proc, String(pid), 'cmdline'), args.join('\0') + '\0');
    await writeFile(
      path.join(proc, String(pid), 'status'),
      `Name:\tqemu-system-x86\nVmRSS:\t  ${mib * 700} kB\n`,
    );
    return FakeQmpServer.start(
      path.join(dir, file),
      fakeGuest({
        name,
        uuid: `00000000-0000-4000-8000-${String(mib).padStart(12, '0')}`,
        baseBytes: mib * B,
        balloon: balloon(mib * B, driver),
        vcpus: 2,
        drives: name === 'drv' ? [fakeDrive('drive-virtio0'), { ...fakeDrive('ide2-cd0'), file: null }] : [],
      }),
    );
  };
  const fakes = await Promise.all([
    start('100.qmp', 'drv', 512, true),
    start('101.qmp', 'nodrv', 384, false),
    start('102.qmp', 'tmp', 256, true),
  ]);
  const hypervisor = createQmpBackend({
    socketGlob: path.join(dir, '*.qmp'),
    procRoot: proc,
    cgroupRoot,
  });
  return {
    hypervisor,
    withDriver: { name: 'drv', maxKib: 512 * MiB, floorKib: null },
    withoutDriver: { name: 'nodrv', maxKib: 384 * MiB, floorKib: null },
    disposable: { name: 'tmp', end: () => (fakes[2] as FakeQmpServer).stop() },
    tuning: { cpuGuest: 'drv', disk: { guest: 'drv', name: 'drive-virtio0' } },
    settle: async () => {},
    close: async () => {
      await hypervisor.close();
      await Promise.all(fakes.map((f) => f.stop().catch(() => {})));
      await rm(dir, { recursive: true, force: true });
    },
  };
});
