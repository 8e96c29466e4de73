// The libvirt backend against the Hypervisor contract, on a fake virsh (the same suite runs on a
// real libvirtd in test/integration/libvirt-contract.test.ts).
import { createLibvirtBackend } from '../../src/hypervisors/libvirt/index.js';
import { fakeDisk, FakeVirsh } from '../support/fake-virsh.js';
import { runHypervisorContract } from './contract.js';

const MiB = 1024;

runHypervisorContract('libvirt on a fake virsh', async () => {
  const virsh = new FakeVirsh();
  virsh.add({
    uuid: '11111111-1111-4111-8111-111111111111',
    name: 'drv',
    maxKib: 1024 * MiB,
    driver: true,
    guaranteeKib: 256 * MiB,
    vcpus: 2,
    disks: [fakeDisk('vda'), fakeDisk('vdb')],
  });
  virsh.add({
    uuid: '22222222-2222-4222-8222-222222222222',
    name: 'nodrv',
    maxKib: 512 * MiB,
    driver: false,
    guaranteeKib: null,
  });
  const tmp = virsh.add({
    uuid: '33333333-3333-4333-8333-333333333333',
    name: 'tmp',
    maxKib: 512 * MiB,
    driver: true,
    guaranteeKib: null,
  });
  const hypervisor = createLibvirtBackend({ virsh: virsh.run, pidDir: null });
  return {
    hypervisor,
    withDriver: { name: 'drv', maxKib: 1024 * MiB, floorKib: 256 * MiB },
    withoutDriver: { name: 'nodrv', maxKib: 512 * MiB, floorKib: null },
    disposable: {
      name: 'tmp',
      end: async () => {
        tmp.running = false;
      },
    },
    tuning: { cpuGuest: 'drv', disk: { guest: 'drv', name: 'vdb' } },
    settle: async () => {},
    close: async () => {},
  };
});
