// Record and replay end to end: the real momd on its built-in simulated host with --record, then
// the real momctl replay on what it wrote. Replayed under the policy it was recorded with (the
// shipped default), the replay must find exactly what was recorded; under another it must run and
// differ. A few seconds of real time (--speed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recordSimulatedRun } from '../support/record-run.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Report {
  cycles: number;
  skipped: number;
  recordedPolicies: string[];
  replayErrors: { cycles: number };
  entities: Array<{
    entity: string;
    cycles: number;
    reclaimedKib: { recorded: number; replayed: number };
    actions: { recorded: number; replayed: number };
    differences: unknown[];
  }>;
}

test('momd --record writes every cycle, and momctl replay reads it back consistently', () => {
  const momd = recordSimulatedRun();
  const rec = momd.rec;
  assert.equal(momd.status, 0, momd.stderr);
  const log = momd.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const loggedCycles = log.filter((l) => l['cycle'] === true).length;
  const policyHash = log.find((l) => typeof l['hash'] === 'string')?.['hash'];

  // Every cycle momd logged is in the file, the last ones included (flushed on the way out).
  assert.deepEqual(readdirSync(rec), ['current.jsonl']);
  const lines = readFileSync(join(rec, 'current.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]?.['kind'], 'header');
  const cycles = lines.filter((l) => l['kind'] === 'cycle');
  assert.ok(loggedCycles > 25, `${loggedCycles} cycles logged`);
  assert.equal(cycles.length, loggedCycles);
  const withSnapshot = cycles.filter((c) => c['status'] !== 'skipped').length;
  const applied = cycles.flatMap((c) => c['outcomes'] as Array<{ outcome: string }>);
  assert.ok(applied.some((o) => o.outcome === 'applied'));

  const momctl = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/momctl.js', 'replay', rec, ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
  // Under the policy it was recorded with: the same wishes every cycle.
  const same = momctl('--json');
  assert.equal(same.status, 0, same.stderr);
  const report = JSON.parse(same.stdout) as Report;
  assert.equal(report.cycles, withSnapshot);
  assert.equal(report.skipped, cycles.length - withSnapshot);
  assert.deepEqual(report.recordedPolicies, [policyHash]);
  assert.equal(report.replayErrors.cycles, 0);
  assert.deepEqual(report.entities.map((e) => e.entity).sort(), ['batch', 'build', 'host', 'idle', 'web']);
  for (const e of report.entities) {
    assert.deepEqual(e.differences, [], e.entity);
    assert.equal(e.reclaimedKib.replayed, e.reclaimedKib.recorded, e.entity);
    assert.equal(e.actions.replayed, e.actions.recorded, e.entity);
  }
  assert.ok(report.entities.some((e) => e.reclaimedKib.recorded > 0));

  // Under the classic policy: another story, told as a table.
  const classic = momctl('--policy', join(repoRoot, 'policies/classic'));
  assert.equal(classic.status, 0, classic.stderr);
  assert.match(classic.stdout, new RegExp(`^replayed ${withSnapshot} cycles from `));
  assert.match(classic.stdout, /largest differences/);
  assert.match(classic.stdout, /\nweb +\d+ /);
});
