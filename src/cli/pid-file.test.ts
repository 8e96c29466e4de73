import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MomError } from '../errors.js';
import { acquirePidFile } from './pid-file.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'momd-pid-'));

/** A fake /proc holding one process's command line (NUL-separated, as the kernel writes it). */
function procWith(pid: number, args: string[]): string {
  const root = dir();
  mkdirSync(join(root, String(pid)));
  writeFileSync(join(root, String(pid), 'cmdline'), args.join('\0') + '\0');
  return root;
}

test('written at start with our pid and a newline; removed on release', () => {
  const path = join(dir(), 'momd.pid');
  const pidFile = acquirePidFile(path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  pidFile.release();
  assert.ok(!existsSync(path));
  pidFile.release(); // twice is harmless
});

test('a stale file is replaced: its process is gone, or its pid now belongs to another program', async () => {
  const path = join(dir(), 'momd.pid');
  // A pid that was just freed: a child that has exited.
  const child = spawn(process.execPath, ['-e', '']);
  const gone = child.pid ?? 0;
  await new Promise((r) => child.on('exit', r));
  writeFileSync(path, `${gone}\n`);
  acquirePidFile(path).release();

  // Our own test runner's pid is alive, but its command line is node's, not momd's.
  writeFileSync(path, `${process.pid}\n`);
  const other = acquirePidFile(path, { pid: 4242, procRoot: procWith(process.pid, ['node', 'x.js']) });
  assert.equal(readFileSync(path, 'utf8'), '4242\n');
  other.release();

  // An empty or torn file holds no pid: stale too.
  writeFileSync(path, 'garbage');
  acquirePidFile(path).release();
  assert.ok(!existsSync(path));
});

test('a file held by a live momd is an error naming its pid, and is left alone', () => {
  const path = join(dir(), 'momd.pid');
  writeFileSync(path, `${process.pid}\n`);
  const proc = procWith(process.pid, ['/usr/bin/node', '/usr/local/bin/momd', '-c', '/etc/mom.conf']);
  assert.throws(
    () => acquirePidFile(path, { pid: 4242, procRoot: proc }),
    (e: unknown) =>
      e instanceof MomError &&
      e.code === 'MOM_E_PID_FILE' &&
      e.message ===
        `${path}: momd is already running as pid ${process.pid}; stop it first, or give another --pid-file`,
  );
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  const jsProc = procWith(process.pid, ['node', 'bin/momd.js']);
  assert.throws(() => acquirePidFile(path, { pid: 4242, procRoot: jsProc }), MomError);
});

test('release leaves a file another momd has taken over; an unwritable place is MOM_E_PID_FILE', () => {
  const path = join(dir(), 'momd.pid');
  const mine = acquirePidFile(path, { pid: 4242 });
  writeFileSync(path, '4343\n');
  mine.release();
  assert.equal(readFileSync(path, 'utf8'), '4343\n');
  assert.throws(
    () => acquirePidFile(join(dir(), 'no-such-dir', 'momd.pid')),
    (e: unknown) =>
      e instanceof MomError && e.code === 'MOM_E_PID_FILE' && /cannot write the pid file/.test(e.message),
  );
});
