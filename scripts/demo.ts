// The README's demo: two real QEMU guests in a 900 MiB memory cgroup, managed by momd with the
// classic policies and that cgroup as its host. Run as root after `npm run build`:
//   node dist/scripts/demo.js
// Ctrl-C stops momd, then the guests, and removes the cgroup and the temporary folder.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestImage, repoRoot } from '../test/integration/support/guest-image.js';
import { writeQmpMomConf } from '../test/integration/support/momd-conf.js';
import { createMemoryCgroup, startGuest, stopAll } from '../test/integration/support/qemu.js';
import { realGuestsAvailable } from '../test/integration/support/skip.js';

const available = realGuestsAvailable();
if (!available.ok) {
  console.error(`demo: ${available.reason}`);
  process.exit(1);
}
await guestImage();
const dir = mkdtempSync(join(tmpdir(), 'momd-demo-'));
const cgroup = await createMemoryCgroup(`demo${process.pid}`, 1000);
console.log(`demo: two guests of 384 MiB in the memory cgroup ${cgroup.path} (limit 1000 MiB)`);
// Each guest's memload idles at 40 MiB, grows its buffer to 330 MiB over a minute, holds it for
// a minute and a half, drops back, and repeats: together they push the cgroup under 20% free.
const guests = await Promise.all(
  ['demo1', 'demo2'].map((name, i) =>
    startGuest({
      name,
      memoryMiB: 384,
      balloon: true,
      swapMiB: 256,
      qmpSockets: 2,
      cgroup,
      dir,
      workload: [
        '--pattern',
        i === 0 ? '0:40,30:40,60:150,90:330,180:330,200:40' : '0:40,40:40,70:150,100:330,190:330,210:40',
        '--free',
      ],
    }),
  ),
);
await Promise.all(guests.map((g) => g.waitForReady(90_000)));
const conf = writeQmpMomConf(dir, cgroup.path, {
  'policy-dir': join(repoRoot(), 'policies/classic'),
  'host-monitor-interval': '2',
  'guest-monitor-interval': '2',
  'policy-engine-interval': '4',
  // A short history so the policy reacts within seconds in the demo (MOM's default is 10).
  'sample-history-length': '3',
});
console.log(`demo: guests ready; starting momd -c ${conf}`);
const momd = spawn(
  process.execPath,
  [join(repoRoot(), 'bin/momd.js'), '-c', conf, '--log-format', 'pretty'],
  {
    stdio: 'inherit',
  },
);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  momd.kill('SIGTERM');
  await new Promise((r) => momd.once('exit', r));
  await stopAll(guests);
  await cgroup.remove();
  await rm(dir, { recursive: true, force: true });
  console.log('demo: stopped and cleaned up');
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
momd.on('exit', () => void stop());
