// The installed command itself (bin/momctl.js → dist), as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

test('bin/momctl.js runs the shipped classic policies against a snapshot', () => {
  const r = spawnSync(
    process.execPath,
    [
      'bin/momctl.js',
      'policy',
      'run',
      '--snapshot',
      'test/fixtures/snapshots/pressure.json',
      'policies/classic',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const controls = JSON.parse(r.stdout) as { host: Record<string, unknown>; guests: Record<string, unknown> };
  assert.equal(controls.host['ksm_run'], 1);
  assert.ok(Object.keys(controls.guests).length > 0);
});

test('bin/momctl.js exits 1 with the diagnostic on stderr for a bad policy', () => {
  const bad = join(mkdtempSync(join(tmpdir(), 'momctl-bin-')), 'bad.policy');
  writeFileSync(bad, '(defvar x 1)\n(+ x @)\n');
  const r = spawnSync(process.execPath, ['bin/momctl.js', 'policy', 'check', bad], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim(), `${bad}:2:6: error: Unexpected character '@'.`);
});
