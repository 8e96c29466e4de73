import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, fixtureCopy, REAL } from '../../../test/support/linux-fixtures.js';
import { PSI_HINT, readMemoryPressure } from './pressure.js';
import { CollectionError, NotAvailable } from './read.js';

test('some and full lines of /proc/pressure/memory', async () => {
  const p = await readMemoryPressure(fixture('host-basic').procRoot);
  assert.deepEqual(p, {
    some: { avg10: 1.25, avg60: 0.8, avg300: 0.2, totalUs: 123456 },
    full: { avg10: 0.5, avg60: 0.3, avg300: 0.05, totalUs: 45678 },
    some10: 1.25,
    full10: 0.5,
  });
});

test('no PSI is NotAvailable with the psi=1 hint', async () => {
  await assert.rejects(readMemoryPressure(fixture('host-no-ksm-no-psi').procRoot), (err) => {
    assert.ok(err instanceof NotAvailable);
    assert.equal(err.hint, PSI_HINT);
    assert.match(err.message, /boot with psi=1/);
    return true;
  });
});

test('a malformed line names the file and the line', async () => {
  const copy = await fixtureCopy('host-basic');
  try {
    await writeFile(
      join(copy.procRoot, 'pressure', 'memory'),
      'some avg10=x avg60=0 avg300=0 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    );
    await assert.rejects(readMemoryPressure(copy.procRoot), (err) => {
      assert.ok(err instanceof CollectionError);
      assert.match(
        err.message,
        /pressure\/memory: expected avg10=<number> on the 'some' line \(read "some avg10=x/,
      );
      return true;
    });
  } finally {
    await copy.remove();
  }
});

test('this machine: percentages in [0, 100], full <= some', async () => {
  const p = await readMemoryPressure(REAL.procRoot);
  for (const line of [p.some, p.full]) {
    for (const v of [line.avg10, line.avg60, line.avg300]) assert.ok(v >= 0 && v <= 100);
    assert.ok(line.totalUs >= 0);
  }
  assert.ok(p.full.totalUs <= p.some.totalUs);
});
