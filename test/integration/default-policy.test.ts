// The default policy (policies/default) on two real guests through momd, with a memory cgroup as
// its host: it takes the page cache the guests hold on the host, and when a guest it shrank
// starts swapping, momd wakes early (not at its next policy cycle) and gives the memory back.
// Site settings loaded before the shipped files make the host count as under pressure from the
// start (tight_free 0.99) and forget at once that a new guest could need its whole size
// (decay_frac 1), so that the test does not wait minutes for either.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { guestImage, repoRoot } from './support/guest-image.js';
import { writeQmpMomConf } from './support/momd-conf.js';
import {
  createMemoryCgroup,
  startGuest,
  stopAll,
  type GuestHandle,
  type MemoryCgroup,
} from './support/qemu.js';
import { realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { until } from './support/wait.js';

const available = realGuestsAvailable();
type LogLine = Record<string, unknown>;
/** momd's policy interval here: a give-back sooner than this came from an early cycle. */
const POLICY_INTERVAL_S = 15;
/** When the busy guest's working set jumps from 0 to 240 MiB (seconds after memload starts). */
const GROW_AT_S = 75;

/** The guest's swap-in count from its newest MOMD-GUEST-VMSTAT line. */
function pswpin(serial: string): number | undefined {
  const all = serial.match(/MOMD-GUEST-VMSTAT pswpin=(\d+)/g);
  const last = all?.at(-1);
  return last === undefined ? undefined : Number(/pswpin=(\d+)/.exec(last)?.[1]);
}

describe('the default policy on real guests (QMP, cgroup as host)', { skip: skipUnless(available) }, () => {
  let dir = '';
  let cgroup: MemoryCgroup | undefined;
  const guests: GuestHandle[] = [];
  let momd: ChildProcess | undefined;
  const log: LogLine[] = [];
  /** When the test first saw the busy guest's swap-in count rise (ms since the epoch). */
  let firstSwapInAt: number | undefined;
  let sampler: NodeJS.Timeout | undefined;

  const actions = (entity: string): LogLine[] =>
    log.filter((l) => l['controller'] === 'Balloon' && l['entity'] === entity && 'new' in l);

  before(async () => {
    requireAvailable(available);
    await guestImage();
    dir = mkdtempSync(join(tmpdir(), 'momd-default-'));
    cgroup = await createMemoryCgroup(`default${process.pid}`, 900);
    const common = { memoryMiB: 320, balloon: true, swapMiB: 256, qmpSockets: 2, cgroup, dir };
    const [busy, idle] = await Promise.all([
      startGuest({
        ...common,
        name: 'busy',
        kernelArgs: ['momcache=120'],
        workload: ['--pattern', `0:0,${GROW_AT_S}:240`, '--period', '100000'],
      }),
      startGuest({ ...common, name: 'idle', kernelArgs: ['momcache=120'] }),
    ]);
    guests.push(busy, idle);
    await Promise.all(guests.map((g) => g.waitForReady(90_000)));

    // The shipped default set, with site settings first.
    const policyDir = join(dir, 'policy');
    mkdirSync(policyDir);
    const shipped = join(repoRoot(), 'policies/default');
    for (const f of readdirSync(shipped)) copyFileSync(join(shipped, f), join(policyDir, f));
    writeFileSync(join(policyDir, '05-site.policy'), '(defvar tight_free 0.99)\n(defvar decay_frac 1)\n');
    const conf = writeQmpMomConf(dir, cgroup.path, {
      'main-loop-interval': '1',
      'host-monitor-interval': '1',
      'guest-monitor-interval': '1',
      'guest-manager-interval': '1',
      'policy-engine-interval': String(POLICY_INTERVAL_S),
      'policy-dir': policyDir,
    });
    momd = spawn(process.execPath, [join(repoRoot(), 'bin/momd.js'), '-c', conf, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    momd.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) log.push(JSON.parse(l) as LogLine);
    });
    const startCount = pswpin(busy.serial()) ?? 0;
    sampler = setInterval(() => {
      const n = pswpin(busy.serial());
      if (firstSwapInAt === undefined && n !== undefined && n > startCount) firstSwapInAt = Date.now();
    }, 200);
  });

  after(async () => {
    if (sampler) clearInterval(sampler);
    if (momd && momd.exitCode === null) momd.kill('SIGKILL');
    await stopAll(guests);
    await cgroup?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('both guests give the page cache the host holds for them, saying so', async () => {
    for (const name of ['busy', 'idle']) {
      const take = await until(`a shrink of ${name}`, 90_000, () =>
        actions(name).find((l) => Number(l['new']) < Number(l['old'])),
      );
      assert.match(String(take['reason']), /MiB the host holds for it unused; its demand/);
    }
  });

  test('the busy guest, shrunk, starts swapping when it grows: momd gives memory back before its next policy cycle', async () => {
    const giveBack = await until('a give-back to busy', 150_000, () =>
      actions('busy').find((l) => String(l['reason']).startsWith('guest short of memory')),
    );
    assert.ok(Number(giveBack['new']) > Number(giveBack['old']));
    assert.ok(firstSwapInAt !== undefined, 'the test saw the guest swap in');
    const delayS = (Number(giveBack['time']) - firstSwapInAt) / 1000;
    // The guest prints its counters once a second, so the test sees a swap-in up to ~1 s late.
    assert.ok(delayS < POLICY_INTERVAL_S - 5, `gave back ${delayS.toFixed(1)} s after the first swap-in`);
    const cycle = log.find(
      (l) => l['cycle'] === true && Math.abs(Number(l['time']) - Number(giveBack['time'])) < 50,
    );
    assert.ok(cycle, 'the give-back belongs to a logged cycle');
  });
});
