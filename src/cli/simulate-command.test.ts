import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMomctl } from './momctl-main.js';
import { PACKAGE_ROOT } from './paths.js';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMomctl(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const dir = mkdtempSync(join(tmpdir(), 'simulate-'));

test('--json prints one object with the documented fields', async () => {
  const r = await run(
    'simulate',
    '--scenario',
    'small',
    '--policy',
    'classic',
    '--duration',
    '180',
    '--json',
  );
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as Record<string, unknown> & { guests: Array<Record<string, unknown>> };
  for (const key of [
    'scenario',
    'policy',
    'duration_s',
    'throughput_total',
    'host_swap_in_pages',
    'host_swap_out_pages',
    'guest_swap_in_pages',
    'guest_swap_out_pages',
    'guest_oom_kills',
    'balloon_ops',
    'ksm_pages_sharing_avg',
  ]) {
    assert.ok(key in report, key);
  }
  assert.equal(report['duration_s'], 180);
  assert.equal(report['policy'], 'classic');
  assert.deepEqual(
    report.guests.map((g) => g['name']),
    ['web', 'batch', 'build', 'idle'],
  );
  const sum = report.guests.reduce((s, g) => s + (g['throughput'] as number), 0);
  assert.ok(Math.abs(sum - (report['throughput_total'] as number)) < 1e-6);
  assert.ok((report['balloon_ops'] as number) > 0, 'the classic policy balloons on the small scenario');
});

test('--policy none applies no control; the same seed gives the same result', async () => {
  const a = JSON.parse(
    (await run('simulate', '--scenario', 'small', '--policy', 'none', '--duration', '120', '--json')).out,
  );
  const b = JSON.parse(
    (await run('simulate', '--scenario', 'small', '--policy', 'none', '--duration', '120', '--json')).out,
  );
  assert.equal(a.balloon_ops, 0);
  assert.deepEqual(a, b);
});

test('the table names the scenario and policy', async () => {
  const r = await run('simulate', '--scenario', 'small', '--policy', 'ksm-only', '--duration', '60');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^scenario small, policy ksm-only, 60 s simulated/);
});

test('a policy file or directory can be given; one that does not parse is an error', async () => {
  const good = join(dir, 'floor.policy');
  writeFileSync(good, '(with Guests g (g.Control "balloon_target" g.balloon_max))\n');
  assert.equal(
    (await run('simulate', '--scenario', 'small', '--policy', good, '--duration', '30', '--json')).code,
    0,
  );
  const bad = join(dir, 'bad.policy');
  writeFileSync(bad, '(oops @)\n');
  const r = await run('simulate', '--scenario', 'small', '--policy', bad, '--duration', '30');
  assert.equal(r.code, 1);
  assert.match(r.err, /could not be loaded/);
});

test('bad input: an unknown scenario, a malformed scenario file, an unknown policy word', async () => {
  const unknown = await run('simulate', '--scenario', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no such scenario/);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'duration_s: 60\nhost: {memory_gib: -1}\nguests: []\n');
  const malformed = await run('simulate', '--scenario', file);
  assert.equal(malformed.code, 1);
  assert.match(malformed.err, /bad\.yaml: host\.memory_gib/);
  const word = await run('simulate', '--scenario', 'small', '--policy', 'aggressive');
  assert.equal(word.code, 1);
  assert.match(word.err, /'aggressive' is not none, default, classic, ksm-only/);
});

test('a host without KSM balloons as it does with KSM: the KSM fields are nil, the policy still runs', async () => {
  const small = readFileSync(join(PACKAGE_ROOT, 'scenarios', 'small.yaml'), 'utf8');
  const noKsm = join(dir, 'small-no-ksm.yaml');
  writeFileSync(noKsm, small.replace(/^ksm:\n {2}run: 0$/m, 'ksm:\n  run: 0\n  available: false'));
  const report = async (scenario: string): Promise<{ balloon_ops: number; policy_errors: number }> => {
    const r = await run(
      'simulate',
      '--scenario',
      scenario,
      '--policy',
      'classic',
      '--duration',
      '300',
      '--json',
    );
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as { balloon_ops: number; policy_errors: number };
  };
  const withKsm = await report('small');
  const without = await report(noKsm);
  assert.equal(without.policy_errors, 0);
  assert.ok(withKsm.balloon_ops > 0);
  // The same policy, the same guests: within a third of each other. KSM frees some host memory,
  // which moves the moments the host runs short, and each of those wakes an early cycle (up to two
  // a second) in which classic shrinks every guest by another step: 137 and 103 at e453bc4.
  assert.ok(
    Math.abs(without.balloon_ops - withKsm.balloon_ops) <= withKsm.balloon_ops / 3,
    `${without.balloon_ops} balloon operations without KSM, ${withKsm.balloon_ops} with`,
  );
});
