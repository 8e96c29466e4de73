import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { explainKsmWriteError, KSM_HINT, ksmDir, readKsm, writeKsm } from './ksm.js';
import { KernelWriteError, NotAvailable } from './read.js';

test('reads KsmState and every file of the directory, text files kept as text', async () => {
  const k = await readKsm(fixture('host-basic').sysRoot);
  const { files, ...state } = k;
  assert.deepEqual(state, {
    run: 1,
    pagesToScan: 64,
    sleepMillisecs: 50,
    mergeAcrossNodes: 1,
    pagesShared: 1500,
    pagesSharing: 9000,
    pagesUnshared: 800,
    pagesVolatile: 25,
    fullScans: 7,
  });
  assert.equal(files['advisor_mode'], '[none] scan-time');
  assert.equal(files['ksm_zero_pages'], 0);
  assert.equal(Object.keys(files).length, 24);
});

test('no KSM directory is NotAvailable with the CONFIG_KSM hint', async () => {
  await assert.rejects(readKsm(fixture('host-no-ksm-no-psi').sysRoot), (err) => {
    assert.ok(err instanceof NotAvailable);
    assert.equal(err.hint, KSM_HINT);
    return true;
  });
  await assert.rejects(writeKsm(fixture('host-no-ksm-no-psi').sysRoot, { run: 1 }), NotAvailable);
});

test('a kernel without merge_across_nodes (no NUMA) reads it as null', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await rm(join(ksmDir(copy.sysRoot), 'merge_across_nodes'));
    assert.equal((await readKsm(copy.sysRoot)).mergeAcrossNodes, null);
    await assert.rejects(writeKsm(copy.sysRoot, { mergeAcrossNodes: 0 }), /only on NUMA kernels/);
  } finally {
    await copy.remove();
  }
});

test('writes only the given knobs', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await writeKsm(copy.sysRoot, { pagesToScan: 300, sleepMillisecs: 10 });
    const k = await readKsm(copy.sysRoot);
    assert.deepEqual([k.run, k.pagesToScan, k.sleepMillisecs, k.mergeAcrossNodes], [1, 300, 10, 1]);
    await writeKsm(copy.sysRoot, { run: 0, mergeAcrossNodes: 0 });
    const k2 = await readKsm(copy.sysRoot);
    assert.deepEqual([k2.run, k2.pagesToScan, k2.sleepMillisecs, k2.mergeAcrossNodes], [0, 300, 10, 0]);
    await writeKsm(copy.sysRoot, {});
  } finally {
    await copy.remove();
  }
});

test('an invalid value is rejected before anything is written', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await assert.rejects(writeKsm(copy.sysRoot, { pagesToScan: 5, run: 3 }), RangeError);
    await assert.rejects(
      writeKsm(copy.sysRoot, { sleepMillisecs: 1.5 }),
      /sleep_millisecs: invalid value 1.5/,
    );
    await assert.rejects(writeKsm(copy.sysRoot, { mergeAcrossNodes: 2 }), RangeError);
    assert.equal((await readKsm(copy.sysRoot)).pagesToScan, 64);
  } finally {
    await copy.remove();
  }
});

test('unmerging (run=2) is written before merge_across_nodes, starting (run=1) after it', async () => {
  const copy = await fixtureCopy('host-basic');
  const dir = ksmDir(copy.sysRoot);
  try {
    // A directory in place of the file makes the merge_across_nodes write fail (EISDIR).
    await rm(join(dir, 'merge_across_nodes'));
    await mkdir(join(dir, 'merge_across_nodes'));
    await assert.rejects(writeKsm(copy.sysRoot, { run: 2, mergeAcrossNodes: 0 }), (err) => {
      assert.ok(err instanceof KernelWriteError);
      assert.match(err.message, /merge_across_nodes.*\(EISDIR\); already written: run=2$/);
      return true;
    });
    assert.equal((await readFile(join(dir, 'run'), 'utf8')).trim(), '2');
    await assert.rejects(writeKsm(copy.sysRoot, { run: 1, mergeAcrossNodes: 0 }), KernelWriteError);
    assert.equal(
      (await readFile(join(dir, 'run'), 'utf8')).trim(),
      '2',
      'run=1 comes last, so it was not written',
    );
  } finally {
    await copy.remove();
  }
});

test("the kernel's EBUSY on merge_across_nodes is explained: unmerge first", () => {
  assert.match(explainKsmWriteError('merge_across_nodes', 'EBUSY') ?? '', /pages_shared > 0.*ksm_run to 2/);
  assert.equal(explainKsmWriteError('run', 'EBUSY'), undefined);
});

test('this machine: KSM is readable and its knobs are in range (nothing is written)', async () => {
  const k = await readKsm(REAL.sysRoot);
  assert.ok([0, 1, 2].includes(k.run));
  assert.ok(k.pagesToScan >= 0 && k.sleepMillisecs >= 0);
  assert.ok(k.pagesShared >= 0 && k.pagesSharing >= 0 && k.fullScans >= 0);
  assert.ok(k.mergeAcrossNodes === null || k.mergeAcrossNodes === 0 || k.mergeAcrossNodes === 1);
  assert.ok('run' in k.files && 'pages_sharing' in k.files);
});
