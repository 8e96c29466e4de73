import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { fixture, REAL } from '../../../test/support/linux-fixtures.js';
import { configuredFields, Monitor } from '../../engine/monitors.js';
import { parseProcStat } from './process.js';
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

/**
 * /proc/PID/stat of a real QEMU (qemu-system-x86_64 running a TCG guest, Linux 6.18), recorded
 * twice 5 s apart: minflt (field 10) 17126 → 17191, majflt (field 12) 18 → 19.
 */
const RECORDED_STAT = [
  '7526 (qemu-system-x86) S 1116 1110 1123 0 -1 138412416 17126 0 18 0 4503 276 0 0 20 0 4 0 885966 1033334784 61075 18446744073709551615 94542335541248 94542341401685 140724302538000 0 0 0 268444224 4096 16451 0 0 0 17 1 0 0 0 0 0 94542344513784 94542349717936 94543048077312 140724302542586 140724302543327 140724302543327 140724302544860 0\n',
  '7526 (qemu-system-x86) S 1116 1110 1123 0 -1 138412416 17191 0 19 0 4624 317 0 0 20 0 4 0 885966 1033334784 94321 18446744073709551615 94542335541248 94542341401685 140724302538000 0 0 0 268444224 4096 16451 0 0 0 17 1 0 0 0 0 0 94542344513784 94542349717936 94543048077312 140724302542586 140724302543327 140724302543327 140724302544860 0\n',
] as const;

test('recorded /proc/PID/stat of a real QEMU: minflt is field 10, majflt field 12', () => {
  const [a, b] = RECORDED_STAT.map((t) => parseProcStat(t, '/proc/7526/stat'));
  assert.ok(a && b);
  assert.deepEqual([a.comm, a.minflt, a.majflt, a.utime, a.stime], ['qemu-system-x86', 17126, 18, 4503, 276]);
  assert.deepEqual([b.minflt, b.majflt], [17191, 19]);
});

test('host_minor_faults and host_major_faults: read with rss, and per-interval deltas for policies', async () => {
  const root = await mkdtemp(join(tmpdir(), 'momd-qemu-stat-'));
  try {
    await mkdir(join(root, '7526'));
    const status = 'Name:\tqemu-system-x86\nVmRSS:\t  481616 kB\nVmSwap:\t   24296 kB\n';
    await writeFile(join(root, '7526', 'status'), status);
    const monitor = new Monitor(
      'vm1',
      configuredFields('guest', ['GuestQemuProc']),
      10,
      pino({ level: 'silent' }),
      'MOM_W_GUEST_NOT_READY',
    );
    const samples = [];
    for (const [i, text] of RECORDED_STAT.entries()) {
      await writeFile(join(root, '7526', 'stat'), text);
      const p = await readQemuProcess(root, 7526);
      assert.deepEqual([p.rss, p.swapped], [481616, 24296]);
      const reading = {
        rss: p.rss,
        swapped: p.swapped,
        cpu_time: p.cpuMs,
        host_minor_faults: p.minorFaults,
        host_major_faults: p.majorFaults,
      };
      samples.push(monitor.record(reading, i * 5));
    }
    const [first, second] = samples;
    // The first sample has nothing to count from; the second counts the 5 s between the two reads.
    assert.deepEqual([first?.['host_minor_faults'], first?.['host_major_faults']], [0, 0]);
    assert.deepEqual([second?.['host_minor_faults'], second?.['host_major_faults']], [65, 1]);
    assert.equal(second?.['cpu_time'], 1620, '(121 + 41) ticks of 10 ms');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
