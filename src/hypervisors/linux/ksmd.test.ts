import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { createKsmdMeter, findKsmd } from './ksmd.js';
import { cpus } from 'node:os';

test('ksmd is the kernel thread named ksmd, not a user process calling itself so', async () => {
  // host-basic has the real ksmd (pid 37) and an impostor (pid 5000) without PF_KTHREAD.
  assert.equal(await findKsmd(fixture('host-basic').procRoot), 37);
  assert.equal(await findKsmd(fixture('host-no-ksm-no-psi').procRoot), null);
});

/** Sets ksmd's utime and stime (fields 14 and 15) in a fixture copy. */
async function setTicks(procRoot: string, utime: number, stime: number): Promise<void> {
  const path = join(procRoot, '37', 'stat');
  const text = await readFile(path, 'utf8');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  rest[11] = String(utime);
  rest[12] = String(stime);
  await writeFile(path, `${text.slice(0, close + 2)}${rest.join(' ')}`);
}

test('CPU use is ticks over wall time between calls, in percent of one CPU; the first call is null', async () => {
  const copy = await fixtureCopy('host-basic');
  let t = 0;
  try {
    const meter = createKsmdMeter(copy.procRoot, { now: () => t });
    assert.equal(await meter.sample(), null);
    await setTicks(copy.procRoot, 175, 75); // +50 ticks = 0.5 s of CPU
    t += 2000;
    assert.equal(await meter.sample(), 25);
    t += 10_000;
    assert.equal(await meter.sample(), 0);
    // ksmd gone (its pid now some other process): null, and it is looked for again.
    await rm(join(copy.procRoot, '37'), { recursive: true });
    t += 1000;
    assert.equal(await meter.sample(), null);
    t += 1000;
    assert.equal(await meter.sample(), null);
  } finally {
    await copy.remove();
  }
});

test('no ksmd: always null', async () => {
  const meter = createKsmdMeter(fixture('host-no-ksm-no-psi').procRoot);
  assert.equal(await meter.sample(), null);
  assert.equal(await meter.sample(), null);
});

test('this machine: ksmd exists; its use is null, then a percentage within the CPUs', async () => {
  assert.notEqual(await findKsmd(REAL.procRoot), null);
  const meter = createKsmdMeter(REAL.procRoot);
  assert.equal(await meter.sample(), null);
  await sleep(50);
  const pct = await meter.sample();
  assert.ok(pct !== null && pct >= 0 && pct <= 100 * cpus().length, `ksmd ${pct}%`);
});
