import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { latestMeminfo } from '../../test/integration/support/wait.js';
import {
  isGuestOomKill,
  isMemloadExit,
  parseMemloadLine,
  parseVmstatLine,
  SerialTail,
  splitLines,
  within,
} from './serial.js';

test('memload lines', () => {
  assert.deepEqual(parseMemloadLine('memload t=12 size_mib=400 throughput_mib_s=153.2'), {
    t: 12,
    sizeMiB: 400,
    throughputMiBs: 153.2,
  });
  assert.equal(parseMemloadLine('MOMD-GUEST-MEMINFO total_kib=1 free_kib=2 avail_kib=3'), undefined);
});

test('the guest paging line, next to a meminfo line the integration tests still read', () => {
  const serial = [
    'MOMD-GUEST-MEMINFO total_kib=560000 free_kib=400000 avail_kib=450000',
    'MOMD-GUEST-VMSTAT pswpin=10 pswpout=20 pgmajfault=30',
  ].join('\n');
  assert.deepEqual(parseVmstatLine(serial.split('\n')[1] ?? ''), { pswpin: 10, pswpout: 20, pgmajfault: 30 });
  assert.deepEqual(latestMeminfo(serial), { totalKiB: 560000, freeKiB: 400000, availKiB: 450000 });
});

test('guest OOM kills and a memload that ended', () => {
  assert.ok(isGuestOomKill('[  12.3] Out of memory: Killed process 77 (memload) total-vm:1kB'));
  assert.ok(!isGuestOomKill('memload t=1 size_mib=1 throughput_mib_s=1.0'));
  assert.ok(isMemloadExit('momd-guest: memload exited with status 137'));
});

test('splitLines keeps the unfinished line for later and drops \\r', () => {
  assert.deepEqual(splitLines('ab', 'c\r\nde\r\nf'), { lines: ['abc', 'de'], rest: 'f' });
});

test('within cuts stamped lines to a window', () => {
  const lines = [1, 5, 9].map((t) => ({ t, line: String(t) }));
  assert.deepEqual(
    within(lines, 2, 9).map((l) => l.t),
    [5, 9],
  );
});

test('SerialTail stamps only whole lines, as they are appended', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serialtail-'));
  const file = join(dir, 'g.serial.log');
  const tail = new SerialTail(file);
  tail.poll(1); // no file yet
  writeFileSync(file, 'one\r\ntw');
  tail.poll(2);
  appendFileSync(file, 'o\r\n');
  tail.poll(3);
  tail.close();
  rmSync(dir, { recursive: true });
  assert.deepEqual(tail.lines, [
    { t: 2, line: 'one' },
    { t: 3, line: 'two' },
  ]);
});
