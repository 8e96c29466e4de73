// The Linux host against the HostSource contract: on fixture trees of /proc and /sys (writable
// copies), and read-only on this machine.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLinuxHost } from '../../src/hypervisors/linux/index.js';
import { ksmDir } from '../../src/hypervisors/linux/ksm.js';
import { zswapDir } from '../../src/hypervisors/linux/zswap.js';
import { fixtureCopy } from '../support/linux-fixtures.js';
import { runHostContract } from './host-contract.js';

const gone = { id: 'gone', name: 'gone', uuid: 'gone', pid: 999_999 };

for (const name of ['host-basic', 'host-no-ksm-no-psi', 'host-cgroup-v1', 'host-cgroup-v2', 'host-zswap']) {
  runHostContract(`linux on the ${name} fixture`, async () => {
    const copy = await fixtureCopy(name);
    const limitable =
      name === 'host-cgroup-v1'
        ? { id: 'vm01', name: 'vm01', uuid: 'u1', pid: 26405 }
        : name === 'host-cgroup-v2'
          ? { id: 'vm01', name: 'vm01', uuid: 'u1', pid: 7001 }
          : undefined;
    return {
      host: createLinuxHost(copy),
      writable: true,
      ...(limitable ? { limitable } : {}),
      gone,
      ksmKnob: async (knob) => Number((await readFile(join(ksmDir(copy.sysRoot), knob), 'utf8')).trim()),
      zswapKnob: async (knob) => (await readFile(join(zswapDir(copy.sysRoot), knob), 'utf8')).trim(),
      close: () => copy.remove(),
    };
  });
}

runHostContract('linux on this machine (read only)', async () => ({
  host: createLinuxHost(),
  writable: false,
  gone,
  close: async () => {},
}));
