import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../cli/paths.js';
import { withMetricsTable } from './docs.js';

test('docs/metrics.md lists every metric as the code declares it (npm run docs)', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'metrics.md'), 'utf8');
  // Prettier may pad a table differently: compare the cells, not the spacing.
  const cells = (s: string): string => s.replace(/ +/g, ' ').replace(/-{3,}/g, '---');
  assert.equal(cells(withMetricsTable(doc)), cells(doc), 'docs/metrics.md is out of date: run npm run docs');
  assert.match(doc, /`momd_guest_balloon_target_bytes` +\| gauge +\| `guest` /);
  assert.match(doc, /`momd_host_psi_some_avg10_ratio` +\| gauge/);
});
