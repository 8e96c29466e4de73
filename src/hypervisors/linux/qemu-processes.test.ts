import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, REAL } from '../../../test/support/linux-fixtures.js';
import {
  isQemuProcess,
  listQemuProcesses,
  readProcessMemory,
  readQemuProcess,
  readQemuRss,
  readVmRss,
  sumQemuRss,
} from './qemu-processes.js';
import { ProcessGone } from './read.js';

test('QEMU emulators by comm or argv[0]; not qemu-img, not kernel threads', () => {
  assert.ok(isQemuProcess('qemu-system-x86\n', '/usr/bin/qemu-system-x86_64\0-m\x00512\0'));
  assert.ok(isQemuProcess('qemu-kvm\n', '/usr/libexec/qemu-kvm\0'));
  assert.ok(isQemuProcess('vm03\n', '/usr/bin/qemu-system-aarch64\0-name\0vm03,process=vm03\0'));
  assert.ok(isQemuProcess('kvm\n', 'kvm\0'));
  assert.ok(!isQemuProcess('qemu-img\n', 'qemu-img\0convert\0'));
  assert.ok(!isQemuProcess('qemu-system-x86\n', ''), 'no argv: a kernel thread or a zombie');
  assert.ok(!isQemuProcess('bash\n', '/bin/bash\0-c\0qemu-system-x86_64\0'));
});

test('the guests of host-basic, and their summed VmRSS (a process that exited is left out)', async () => {
  const { procRoot } = fixture('host-basic');
  // 4246 exited between the scan and the read of its status.
  assert.deepEqual(await listQemuProcesses(procRoot), [4242, 4243, 4244, 4246]);
  assert.deepEqual(await readQemuRss(procRoot), [
    { pid: 4242, rssKib: 600000 },
    { pid: 4243, rssKib: 400000 },
    { pid: 4244, rssKib: 100000 },
  ]);
  assert.equal(await sumQemuRss(procRoot), 1100000);
  assert.equal(await sumQemuRss(fixture('host-no-ksm-no-psi').procRoot), 0);
});

test("one pid's VmRSS: KiB, null for a kernel thread, ProcessGone for an exited process", async () => {
  const { procRoot } = fixture('host-basic');
  assert.equal(await readVmRss(procRoot, 4242), 600000);
  assert.equal(await readVmRss(procRoot, 2), null);
  await assert.rejects(readVmRss(procRoot, 99999), (err) => err instanceof ProcessGone && err.pid === 99999);
});

test("one pid's resident and swapped-out memory from one status read; null for a kernel thread", async () => {
  const { procRoot } = fixture('host-basic');
  assert.deepEqual(await readProcessMemory(procRoot, 4243), { rss: 400000, swapped: 51200 });
  assert.deepEqual(await readProcessMemory(procRoot, 2), { rss: null, swapped: null });
  await assert.rejects(readProcessMemory(procRoot, 99999), ProcessGone);
});

test('this machine: our own VmRSS is positive; the QEMU sum is a whole number of KiB', async () => {
  const rss = await readVmRss(REAL.procRoot, process.pid);
  assert.ok(rss !== null && rss > 1000, `VmRSS ${rss}`);
  const sum = await sumQemuRss(REAL.procRoot);
  assert.ok(Number.isInteger(sum) && sum >= 0);
});

test('readQemuProcess: memory from status, CPU time (ms) and host page faults from stat', async () => {
  const { procRoot } = fixture('host-basic');
  // stat of 4243: minflt 4675, majflt 31, utime 1, stime 2 ticks (USER_HZ 100).
  assert.deepEqual(await readQemuProcess(procRoot, 4243), {
    rss: 400000,
    swapped: 51200,
    cpuMs: 30,
    minorFaults: 4675,
    majorFaults: 31,
  });
  await assert.rejects(readQemuProcess(procRoot, 99999), ProcessGone);
});
