// momd's log file on a full disk: a real tmpfs of 64 KiB filled up, momd on its simulated host
// logging to it. momd must keep running, say once on stderr that its log cannot be written, and
// write it again (saying how many lines were lost) once there is room.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeSimulatedMomConf } from './support/momd-conf.js';
import { startMomd, type MomdProcess } from './support/momd-process.js';
import { requireAvailable, skipUnless, type Availability } from './support/skip.js';
import { until } from './support/wait.js';

const available: Availability =
  process.getuid?.() === 0 ? { ok: true } : { ok: false, reason: 'mounting a tmpfs needs root' };

describe('the log file on a full disk', { skip: skipUnless(available) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-logfull-'));
  const mnt = join(dir, 'disk');
  let mounted = false;
  let momd: MomdProcess | undefined;

  before(() => {
    requireAvailable(available);
    mkdirSync(mnt);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    assert.equal(r.status, 0, `mount: ${r.stderr}`);
    mounted = true;
  });

  after(async () => {
    await momd?.stop();
    if (mounted) spawnSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('momd keeps running, says so once on stderr, and writes its log again when there is room', async () => {
    const log = join(mnt, 'momd.log');
    // Fill the disk: what is left is less than one log line.
    spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1k', 'count=128'], { encoding: 'utf8' });
    const conf = writeSimulatedMomConf(dir, []);
    writeFileSync(conf, `${'[logging]'}\nlog: ${log}\nverbosity: debug\n`, { flag: 'a' });
    momd = startMomd(['-c', conf]);
    const m = momd;
    await until('the report on stderr', 20_000, () =>
      /cannot write the log/.test(m.stderr()) ? true : undefined,
    );
    // Several seconds of cycles at debug level with nowhere to write them: momd goes on.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(m.child.exitCode, null, `momd exited: ${m.stderr()}`);
    assert.equal(m.stderr().match(/cannot write the log/g)?.length, 1, m.stderr());
    rmSync(join(mnt, 'fill'));
    await until('the log written again', 30_000, () =>
      /is written again; \d+ lines were dropped meanwhile/.test(m.stderr()) ? true : undefined,
    );
    const dropped = Number(/(\d+) lines were dropped/.exec(m.stderr())?.[1]);
    assert.ok(dropped > 0, m.stderr());
    assert.equal(await m.stop(), 0);
    momd = undefined;
    const text = spawnSync('cat', [log], { encoding: 'utf8' }).stdout;
    assert.match(text, /"msg":"momd stopped by signal"/);
  });
});
