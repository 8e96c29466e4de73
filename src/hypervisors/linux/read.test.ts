import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixture } from '../../../test/support/linux-fixtures.js';
import {
  CollectionError,
  KernelWriteError,
  NotAvailable,
  parseKernelInt,
  parseKeyValues,
  readKernelBytes,
  readKernelInt,
  readKeyValueFile,
  writeKernelValue,
} from './read.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'momd-read-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('readKernelInt reads one integer; bad text is a CollectionError naming the path and the text', async () => {
  assert.equal(await readKernelInt(join(fixture('host-basic').sysRoot, 'kernel/mm/ksm/pages_to_scan')), 64);
  await writeFile(join(dir, 'bad'), '12 pages\n');
  await assert.rejects(readKernelInt(join(dir, 'bad')), (err: unknown) => {
    assert.ok(err instanceof CollectionError);
    assert.equal(err.path, join(dir, 'bad'));
    assert.match(err.message, /bad: expected an integer \(read "12 pages\\n"\)/);
    return true;
  });
  assert.throws(() => parseKernelInt('', 'x'), CollectionError);
  assert.equal(parseKernelInt('-1\n', 'x'), -1);
});

test('a missing file is NotAvailable carrying the hint, not a CollectionError', async () => {
  await assert.rejects(
    readKernelInt(join(dir, 'nope'), { hint: 'KSM not in this kernel (CONFIG_KSM)' }),
    (err) => {
      assert.ok(err instanceof NotAvailable);
      assert.equal(err.hint, 'KSM not in this kernel (CONFIG_KSM)');
      assert.match(err.message, /nope does not exist: KSM not in this kernel/);
      return true;
    },
  );
  // A missing directory on the way is the same thing.
  await assert.rejects(readKernelInt(join(dir, 'no-dir', 'file')), NotAvailable);
});

test("readKernelBytes keeps values beyond 2^53 exact and reads 'max' as null", async () => {
  await writeFile(join(dir, 'v1'), '9223372036854771712\n');
  await writeFile(join(dir, 'v2'), 'max\n');
  assert.equal(await readKernelBytes(join(dir, 'v1')), 9223372036854771712n);
  assert.equal(await readKernelBytes(join(dir, 'v2')), null);
});

test('readKeyValueFile reads meminfo, status (with empty values) and vmstat', async () => {
  const basic = fixture('host-basic');
  const meminfo = await readKeyValueFile(join(basic.procRoot, 'meminfo'));
  assert.equal(meminfo.int('MemTotal', 'kB'), 24684084);
  assert.equal(meminfo.int('HugePages_Total'), 0);
  assert.equal(meminfo.optionalInt('NoSuchField', 'kB'), null);
  assert.throws(() => meminfo.int('MemTotal'), /expected an integer/);
  assert.throws(() => meminfo.int('Nope'), /no 'Nope' line/);
  const status = await readKeyValueFile(join(basic.procRoot, '1', 'status'));
  assert.equal(status.text('Name'), 'systemd');
  const vmstat = await readKeyValueFile(join(basic.procRoot, 'vmstat'));
  assert.equal(vmstat.int('pswpin'), 1234);
});

test('a line without a value is a CollectionError naming the line', () => {
  assert.throws(
    () => parseKeyValues('MemTotal: 1 kB\ngarbage\n', '/x/meminfo'),
    (err: unknown) =>
      err instanceof CollectionError && err.text === 'garbage' && /\/x\/meminfo/.test(err.message),
  );
  assert.throws(
    () => parseKeyValues('MemTotal: lots kB\n', '/x/meminfo').int('MemTotal', 'kB'),
    /"MemTotal lots kB"/,
  );
});

test('writeKernelValue replaces the value, never creates a file, and names the errno on refusal', async () => {
  const f = join(dir, 'knob');
  await writeFile(f, '100\n');
  await writeKernelValue(f, 7);
  assert.equal(await readFile(f, 'utf8'), '7');
  await assert.rejects(writeKernelValue(join(dir, 'absent'), 1, { hint: 'no such knob' }), NotAvailable);
  await assert.rejects(stat(join(dir, 'absent')), /ENOENT/);
  await mkdir(join(dir, 'adir'));
  await assert.rejects(
    writeKernelValue(join(dir, 'adir'), 1, { explain: (c) => (c === 'EISDIR' ? 'a directory' : undefined) }),
    (err) => {
      assert.ok(err instanceof KernelWriteError);
      assert.equal(err.errno, 'EISDIR');
      assert.match(err.message, /cannot write 1 to .*adir: a directory \(EISDIR\)/);
      return true;
    },
  );
});
