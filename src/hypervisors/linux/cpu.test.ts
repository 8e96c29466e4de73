import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCpuList, readCpuCount } from './cpu.js';
import { fixture, REAL } from '../../../test/support/linux-fixtures.js';
import { CollectionError, NotAvailable } from './read.js';

test('CPU lists are counted', () => {
  assert.equal(parseCpuList('0\n', 'online'), 1);
  assert.equal(parseCpuList('0-1\n', 'online'), 2);
  assert.equal(parseCpuList('0-3,6,8-9\n', 'online'), 7);
  assert.throws(() => parseCpuList('0-', 'online'), CollectionError);
  assert.throws(() => parseCpuList('3-1', 'online'), CollectionError);
});

test('sysfs online list first, /proc/cpuinfo when there is none', async () => {
  assert.equal(await readCpuCount(fixture('host-basic')), 2);
  assert.equal(await readCpuCount(fixture('host-no-ksm-no-psi')), 4);
  const nowhere = join(fixture('host-basic').root, 'nowhere');
  await assert.rejects(readCpuCount({ procRoot: nowhere, sysRoot: nowhere }), NotAvailable);
});

test('this machine: as many CPUs as Node sees', async () => {
  assert.equal(await readCpuCount(REAL), cpus().length);
});
