import assert from 'node:assert/strict';
import { test } from 'node:test';
import { staleSwapFiles, swapPathFor } from './host.js';

const PROC_SWAPS = `Filename				Type		Size		Used		Priority
/var/tmp/momd-bench-swap-27092          file		2097148		0		-2
/var/tmp/momd-bench-swap-4100           file		2097148		0		-3
/dev/vdb                                partition	1048572		0		-4
/var/tmp/other-swap                     file		1048572		0		-5
`;

test('a swap file whose invocation no longer runs is stale, on or only left on disk', () => {
  const running = (pid: number): boolean => pid === 4100;
  assert.deepEqual(
    staleSwapFiles(
      PROC_SWAPS,
      ['momd-bench-swap-27092', 'momd-bench-swap-31', 'momd-calibrate-swap-32', 'momd-testbed', 'x'],
      running,
    ),
    ['/var/tmp/momd-bench-swap-27092', '/var/tmp/momd-bench-swap-31', '/var/tmp/momd-calibrate-swap-32'],
  );
});

test("a running invocation's swap file, the machine's own swap and other files are left alone", () => {
  assert.deepEqual(
    staleSwapFiles(PROC_SWAPS, ['momd-bench-swap-4100', 'momd-bench-swap-x1'], () => true),
    [],
  );
  assert.deepEqual(
    staleSwapFiles('Filename\tType\tSize\tUsed\tPriority\n', [], () => false),
    [],
  );
  assert.equal(swapPathFor('bench', 7), '/var/tmp/momd-bench-swap-7');
  assert.equal(swapPathFor('calibrate', 8), '/var/tmp/momd-calibrate-swap-8');
});
