// The default policy (policies/default) on two real guests through momd, with a memory cgroup as
// its host: it takes the page cache the guests hold on the host, and when a guest it shrank
// starts swapping, momd wakes early (not at its next policy cycle) and gives the memory back.
// Site settings loaded before the shipped files make the host count as under pressure from the
// start (tight_free 0.99) and forget at once that a new guest could need its whole size
// (decay_frac 1), so that the test does not wait minutes for either. Then momd is killed and
// started again (no jump: it carries on from the balloons as they are), and with deflate-on-exit
// its SIGTERM at the end gives both guests their whole memory back.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { guestImage, repoRoot } from './support/guest-image.js';
import { writeQmpMomConf } from './support/momd-conf.js';
import { startMomd as startMomdProcess } from './support/momd-process.js';
import {
  createMemoryCgroup,
  startGuest,
  stopAll,
  type GuestHandle,
  type MemoryCgroup,
} from './support/qemu.js';
import { realGuestsAvailable, requireAvailable, skipUnless } from './support/skip.js';
import { latestMeminfo, until } from './support/wait.js';

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
  let startMomd: () => ChildProcess = () => assert.fail('momd not configured');
  const log: LogLine[] = [];
  /** When the test first saw the busy guest's swap-in count rise (ms since the epoch). */
  let firstSwapInAt: number | undefined;
  let sampler: NodeJS.Timeout | undefined;
  /** Each guest's MemTotal at boot, before any balloon (KiB). */
  let fullKiB: number[] = [];

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
    const ready = await Promise.all(guests.map((g) => g.waitForReady(90_000)));
    fullKiB = ready.map((r) => r.memTotalKiB);

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
      'deflate-on-exit': 'true',
    });
    // One log across momd's restarts (the SIGKILL test starts a second one).
    startMomd = (): ChildProcess => startMomdProcess(['-c', conf], { log }).child;
    momd = startMomd();
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
      // A guest whose CPU has been idle for idle_after_s before its first take (either may be:
      // busy's working set is 0 for its first GROW_AT_S seconds) says so, and gives its untouched
      // memory as well; the CI machine saw that once.
      assert.match(
        String(take['reason']),
        /MiB (the host holds for it unused|it holds unused \(idle guest: [^)]*\)); its demand/,
      );
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

  test('momd killed (SIGKILL) and started again reads the balloons as they are and carries on without a jump', async () => {
    const idle = guests[1] as GuestHandle;
    const shrunk = latestMeminfo(idle.serial())?.totalKiB ?? Infinity;
    assert.ok(shrunk < (fullKiB[1] ?? 0) - 16 * 1024, `idle is shrunk before the kill (${shrunk} KiB)`);
    const killed = momd as ChildProcess;
    const closed = new Promise((resolve) => killed.once('close', resolve));
    killed.kill('SIGKILL');
    await closed;
    const from = log.length;
    momd = startMomd();
    // The new momd watches the guests for a whole policy interval (its first cycle, early ones,
    // one on the interval): whatever it does, it must not give the idle guest back its memory
    // because it knows nothing of it yet.
    const restartedAt = Date.now();
    await until('a policy interval of the new momd', 4 * POLICY_INTERVAL_S * 1000, () =>
      log
        .slice(from)
        .some((l) => l['cycle'] === true && Number(l['time']) - restartedAt >= POLICY_INTERVAL_S * 1000)
        ? true
        : undefined,
    );
    const grown = log
      .slice(from)
      .filter(
        (l) =>
          l['controller'] === 'Balloon' &&
          l['entity'] === 'idle' &&
          /→/.test(String(l['msg'])) &&
          Number(l['new']) > Number(l['old']),
      );
    assert.deepEqual(grown, []);
    const now = latestMeminfo(idle.serial())?.totalKiB ?? Infinity;
    assert.ok(now <= shrunk + 4 * 1024, `idle's MemTotal went from ${shrunk} to ${now} KiB`);
  });

  test('with deflate-on-exit, SIGTERM gives every guest its whole memory back before momd exits', async () => {
    const proc = momd as ChildProcess;
    const closed = new Promise<[number | null, string | null]>((resolve) =>
      proc.once('close', (code, sig) => resolve([code, sig])),
    );
    proc.kill('SIGTERM');
    assert.deepEqual(await closed, [0, null]);
    const summary = log.find((l) => /^deflate-on-exit: \d+ guests given/.test(String(l['msg'])));
    assert.ok(summary, 'the deflation is logged');
    // The host counts as tight all along (tight_free 0.99): the idle guest is still shrunk (the
    // busy one may have been given all of its memory back).
    assert.ok(
      log.some((l) => /^deflate-on-exit: balloon of idle: \d+ → \d+$/.test(String(l['msg']))),
      JSON.stringify(summary),
    );
    assert.equal(summary['failed'], 0);
    await until('both guests whole again', 30_000, () =>
      guests.every(
        (g, i) => (latestMeminfo(g.serial())?.totalKiB ?? 0) >= (fullKiB[i] ?? Infinity) - 4 * 1024,
      )
        ? true
        : undefined,
    );
  });
});
