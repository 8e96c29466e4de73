// momd itself, as a process, on real QEMU guests through QMP, with a memory cgroup as its host:
// the policy balloons a guest (the guest's own MemTotal drops) and grows it back after a policy
// change on disk; a guest without the balloon driver is marked stuck and the daemon goes on; a
// guest killed mid-run is survived; a paused guest is not shrunk on its stale statistics; KSM
// settings are applied and restored at shutdown; a guest a killed momd left paused for contention
// is resumed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
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
import { QmpClient } from './support/qmp.js';
import { latestMeminfo, until } from './support/wait.js';

const MiB = 1024;
/** A log line saying the Balloon controller sent fat a target of `kib`. */
const fatSentTo =
  (kib: number) =>
  (l: Record<string, unknown>): boolean =>
    l['controller'] === 'Balloon' && l['entity'] === 'fat' && l['new'] === kib && /→/.test(String(l['msg']));
const KSM = '/sys/kernel/mm/ksm';
const KNOBS = ['run', 'pages_to_scan', 'sleep_millisecs'] as const;
const available = realGuestsAvailable();
type LogLine = Record<string, unknown>;

const readKsm = (): Record<string, string> =>
  Object.fromEntries(KNOBS.map((k) => [k, readFileSync(join(KSM, k), 'utf8').trim()]));

describe('momd on real guests (QMP, cgroup as host)', { skip: skipUnless(available) }, () => {
  let dir = '';
  let cgroup: MemoryCgroup | undefined;
  const guests: GuestHandle[] = [];
  let momd: ChildProcess | undefined;
  const log: LogLine[] = [];
  let ksmAtStart: Record<string, string> = {};
  let exitCode: Promise<number | null> = Promise.resolve(null);
  const policyFile = () => join(dir, 'site.policy');
  /** The guest's MemTotal before any ballooning. */
  let fullTotalKiB = 0;

  const waitLog = (what: string, pred: (l: LogLine) => boolean, timeoutMs = 60_000, from = 0) =>
    until(what, timeoutMs, () => log.slice(from).find(pred));

  before(async () => {
    requireAvailable(available);
    await guestImage();
    ksmAtStart = readKsm();
    dir = mkdtempSync(join(tmpdir(), 'momd-e2e-'));
    cgroup = await createMemoryCgroup(`e2e${process.pid}`, 900);
    const [fat, nodrv] = await Promise.all([
      startGuest({ name: 'fat', memoryMiB: 320, balloon: true, qmpSockets: 2, cgroup, dir }),
      startGuest({
        name: 'nodrv',
        memoryMiB: 256,
        balloon: true,
        balloonDriver: false,
        qmpSockets: 2,
        cgroup,
        dir,
      }),
    ]);
    guests.push(fat, nodrv);
    const [fatReady] = await Promise.all([fat.waitForReady(60_000), nodrv.waitForReady(60_000)]);
    fullTotalKiB = fatReady.memTotalKiB;
    // As a momd killed while it held fat paused for contention leaves it: fat stopped, and the
    // note naming it (contention-pause-record; the QMP backend's id is the socket momd uses).
    const qmp = await QmpClient.connect(fat.qmpPaths[1] as string);
    try {
      await qmp.execute('stop');
    } finally {
      qmp.close();
    }
    writeFileSync(join(dir, 'contention-paused.json'), JSON.stringify({ id: fat.qmpPaths[0], name: 'fat' }));

    writeFileSync(
      policyFile(),
      [
        '(Host.Control "ksm_run" 1)',
        '(Host.Control "ksm_pages_to_scan" 1234)',
        '(Host.Control "ksm_sleep_millisecs" 42)',
        '(with Guests g (g.Control "balloon_target" 204800))',
      ].join('\n'),
    );
    const conf = writeQmpMomConf(dir, cgroup.path, {
      'main-loop-interval': '1',
      'host-monitor-interval': '1',
      'guest-monitor-interval': '1',
      'guest-manager-interval': '1',
      'policy-engine-interval': '2',
      'balloon-stuck-timeout': '6',
      policy: 'site.policy',
    });
    momd = spawn(process.execPath, [join(repoRoot(), 'bin/momd.js'), '-c', conf, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exitCode = new Promise((resolve) => momd?.on('exit', (code) => resolve(code)));
    let buffered = '';
    momd.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) log.push(JSON.parse(l) as LogLine);
    });
  });

  after(async () => {
    if (momd && momd.exitCode === null) momd.kill('SIGKILL');
    // Whatever happened, leave KSM as we found it.
    for (const k of KNOBS) {
      try {
        if (readFileSync(join(KSM, k), 'utf8').trim() !== ksmAtStart[k])
          writeFileSync(join(KSM, k), String(ksmAtStart[k]));
      } catch {
        // best effort
      }
    }
    await stopAll(guests);
    await cgroup?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a guest a killed momd left paused for contention (its note) is resumed at the first cycle', async () => {
    const resumed = await waitLog(
      'the resume',
      (l) => l['code'] === 'MOM_W_CONTENTION_RESUME' && l['guest'] === 'fat',
    );
    assert.match(String(resumed['msg']), /paused for contention by an earlier momd/);
    const qmp = await QmpClient.connect((guests[0] as GuestHandle).qmpPaths[1] as string);
    try {
      const status = (await qmp.execute('query-status')) as { status?: string };
      assert.equal(status.status, 'running');
    } finally {
      qmp.close();
    }
    assert.equal(existsSync(join(dir, 'contention-paused.json')), false, 'the note is removed');
  });

  test('the host is the memory cgroup: its limit is the total', async () => {
    const cycle = await waitLog(
      'a policy cycle with both guests',
      (l) => l['cycle'] === true && l['guests'] === 2,
    );
    assert.equal(cycle['host_mem_total_kib'], 900 * MiB);
    assert.equal(typeof cycle['host_free_pct'], 'number');
  });

  test('the policy balloons the guest down: its own MemTotal drops', async () => {
    const fat = guests[0] as GuestHandle;
    await waitLog(
      'the balloon action',
      (l) => l['controller'] === 'Balloon' && l['entity'] === 'fat' && l['new'] === 204800,
    );
    await until('fat MemTotal to drop', 45_000, () => {
      const m = latestMeminfo(fat.serial());
      return m && m.totalKiB <= fullTotalKiB - 80 * MiB ? m : undefined;
    });
  });

  test("a balloon reset behind momd's back is put back within two cycles", async () => {
    const fat = guests[0] as GuestHandle;
    // The policy's target is in force: the guest is small, and momd has seen it so (two cycles on).
    await until('fat at its target', 45_000, () => {
      const m = latestMeminfo(fat.serial());
      return m && m.totalKiB <= fullTotalKiB - 110 * MiB ? m : undefined;
    });
    const seen = log.length;
    await waitLog('a cycle', (l) => l['cycle'] === true, 30_000, seen);
    await waitLog(
      'another cycle',
      (l) => l['cycle'] === true,
      30_000,
      log.findIndex((l, i) => i >= seen && l['cycle'] === true) + 1,
    );
    // Another tool (here: the test, on the guest's second QMP socket) gives the guest everything back.
    const from = log.length;
    const qmp = await QmpClient.connect(fat.qmpPaths[1] as string);
    try {
      await qmp.execute('balloon', { value: 320 * MiB * 1024 });
    } finally {
      qmp.close();
    }
    await until('fat given its memory back', 30_000, () => {
      const m = latestMeminfo(fat.serial());
      return m && m.totalKiB >= fullTotalKiB - 4 * MiB ? m : undefined;
    });
    const resent = await waitLog('the target sent again', fatSentTo(204800), 30_000, from);
    const trail = log
      .filter((l) => l['entity'] === 'fat' || l['guest'] === 'fat')
      .map((l) => JSON.stringify(l))
      .join('\n');
    assert.match(String(resent['reason']), /behind momd's back/, trail);
    const cyclesBetween = log.slice(from, log.indexOf(resent)).filter((l) => l['cycle'] === true).length;
    assert.ok(cyclesBetween <= 2, `sent again after ${cyclesBetween} cycles`);
    await until('fat small again', 45_000, () => {
      const m = latestMeminfo(fat.serial());
      return m && m.totalKiB <= fullTotalKiB - 80 * MiB ? m : undefined;
    });
  });

  test('KSM settings from the policy reach sysfs', async () => {
    await until('KSM knobs written', 30_000, () => {
      const k = readKsm();
      return k['pages_to_scan'] === '1234' && k['sleep_millisecs'] === '42' && k['run'] === '1'
        ? k
        : undefined;
    });
  });

  test('a guest without the balloon driver is marked stuck, and the daemon goes on', async () => {
    const stuck = await waitLog('the stuck mark', (l) =>
      /balloon of nodrv has not moved/.test(String(l['msg'])),
    );
    const at = log.indexOf(stuck);
    await waitLog('two more cycles', (l) => l['cycle'] === true, 30_000, at + 1);
    assert.ok(log.slice(at + 1).filter((l) => l['cycle'] === true).length >= 1);
  });

  test('a policy change on disk is picked up: the guest grows back', async () => {
    const fat = guests[0] as GuestHandle;
    const from = log.length;
    writeFileSync(policyFile(), '(with Guests g (g.Control "balloon_target" g.balloon_max))\n');
    await waitLog('the reload', (l) => /policy loaded/.test(String(l['msg'])), 30_000, from);
    await until('fat MemTotal to come back', 45_000, () => {
      const m = latestMeminfo(fat.serial());
      return m && m.totalKiB >= fullTotalKiB - 4 * MiB ? m : undefined;
    });
  });

  test('a paused guest is not shrunk on its stale statistics; once it runs again, it is', async () => {
    const fat = guests[0] as GuestHandle;
    const from = log.length;
    // Paused (QMP stop): QEMU still answers, but the guest's balloon driver no longer refreshes
    // its statistics, so their age grows while the numbers stay as they were.
    const qmp = await QmpClient.connect(fat.qmpPaths[1] as string);
    try {
      await qmp.execute('stop');
      // The statistics count as stale after 10 s without a refresh (STALE_STATS_S); the shrink is
      // asked for only once they are, or it would rightly go out on the last fresh figures.
      await delay(11_000);
      writeFileSync(policyFile(), '(with Guests g (g.Control "balloon_target" 204800))\n');
      const held = await waitLog(
        'the shrink held',
        (l) => l['controller'] === 'Balloon' && l['entity'] === 'fat' && /^held: /.test(String(l['reason'])),
        45_000,
        from,
      );
      assert.match(String(held['reason']), /statistics are stale/);
      assert.ok(
        !log.slice(from).some(fatSentTo(204800)),
        'no balloon change was sent while the guest was paused',
      );
      await qmp.execute('cont');
    } finally {
      qmp.close();
    }
    await waitLog('the shrink applied once the statistics are fresh', fatSentTo(204800), 45_000, from);
  });

  test('a policy that does not parse is rejected and the previous one keeps running', async () => {
    const from = log.length;
    writeFileSync(policyFile(), '(with Guests g (g.Control "balloon_target" @))\n');
    const rejected = await waitLog(
      'the rejection',
      (l) => /policy rejected/.test(String(l['msg'])),
      30_000,
      from,
    );
    assert.match(String(rejected['policy_errors']), /site\.policy:1:44: error: Unexpected character '@'\./);
    await waitLog(
      'a cycle after it',
      (l) => l['cycle'] === true && l['failed'] === 0,
      30_000,
      log.indexOf(rejected),
    );
  });

  test('a guest killed mid-run is dropped and the daemon goes on', async () => {
    const fat = guests[0] as GuestHandle;
    const from = log.length;
    process.kill(fat.pid, 'SIGKILL');
    await waitLog('fat removed', (l) => l['msg'] === 'guest removed' && l['guest'] === 'fat', 30_000, from);
    await waitLog('a cycle with one guest', (l) => l['cycle'] === true && l['guests'] === 1, 30_000, from);
  });

  test('on SIGTERM momd stops cleanly and restores the KSM settings it found', async () => {
    momd?.kill('SIGTERM');
    assert.equal(await exitCode, 0);
    assert.ok(log.some((l) => l['msg'] === 'KSM settings restored to those found at start'));
    assert.deepEqual(readKsm(), ksmAtStart);
  });
});
