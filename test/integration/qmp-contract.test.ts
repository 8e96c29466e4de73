// The Hypervisor contract on real QEMU guests (TCG) through the QMP backend: the same tests the
// simulator and the fake QMP server pass, against what QEMU and a guest kernel really do.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQmpBackend } from '../../src/hypervisors/qmp/index.js';
import { runHypervisorContract } from '../hypervisors/contract.js';
import { guestImage } from './support/guest-image.js';
import { startGuest, stopAll, type GuestHandle } from './support/qemu.js';
import { realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';

const MiB = 1024;
const available = realGuestsAvailable();

runHypervisorContract(
  'qmp on real QEMU guests',
  async () => {
    requireAvailable(available);
    await guestImage();
    await guestImage({ balloonDriver: false });
    const dir = mkdtempSync(join(tmpdir(), 'momd-qmp-contract-'));
    const guests: GuestHandle[] = await Promise.all([
      startGuest({ name: 'drv', memoryMiB: 320, balloon: true, dir }),
      // A drive for the io-tune case (the guest makes it swap, which nothing here uses).
      startGuest({ name: 'nodrv', memoryMiB: 256, balloon: true, balloonDriver: false, swapMiB: 16, dir }),
      startGuest({ name: 'tmp', memoryMiB: 256, balloon: true, dir }),
    ]);
    await Promise.all(guests.map((g) => g.waitForReady(90_000)));
    const hypervisor = createQmpBackend({ socketGlob: join(dir, '*.qmp0.sock') });
    const tmp = guests[2] as GuestHandle;
    return {
      hypervisor,
      withDriver: { name: 'drv', maxKib: 320 * MiB, floorKib: null },
      withoutDriver: { name: 'nodrv', maxKib: 256 * MiB, floorKib: null },
      disposable: { name: 'tmp', end: () => tmp.stop() },
      // No CPU cgroup of its own here: the cpu-tune case checks that setting it is refused.
      tuning: { disk: { guest: 'nodrv', name: 'swap0' } },
      settle: () => new Promise((r) => setTimeout(r, 500)),
      close: async () => {
        await hypervisor.close();
        await stopAll(guests);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { skipAll: skipUnless(available), moveTimeoutMs: 45_000, timeoutMs: 300_000 },
);
