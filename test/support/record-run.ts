// A recording made by the real momd: its built-in simulated host at --speed 100 for 300 simulated
// seconds (a few seconds of real time), recorded with --record. For the tests of what reads
// recordings (momctl replay, the dashboard).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs momd --record; returns the recording's folder and momd's exit status and output. */
export function recordSimulatedRun(): { rec: string; status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'momd-record-'));
  const rec = join(dir, 'rec');
  const r = spawnSync(
    process.execPath,
    [
      'bin/momd.js',
      '--speed',
      '100',
      '--duration',
      '300',
      '--record',
      rec,
      '--log-format',
      'json',
      '--api-socket',
      join(dir, 'api.sock'),
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  return { rec, status: r.status, stdout: r.stdout, stderr: r.stderr };
}
