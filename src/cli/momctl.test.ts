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

test('bin/momctl.js policy check: ok, warnings, errors, and --config for a configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momctl-check-'));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const check = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['bin/momctl.js', 'policy', 'check', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
    });

  // Clean: exactly one line `ok` on stdout, nothing on stderr, exit 0.
  for (const shipped of ['policies/default', 'policies/classic']) {
    const r = check(shipped);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, 'ok\n', ''], shipped);
  }

  // Warnings alone: exit 0, no `ok`.
  const ksm = write(
    'ksm.policy',
    '(Host.Control "ksm_run" 1)\n(with Guests g (g.Control "baloon_target" 1))\n',
  );
  const warned = check(ksm);
  assert.deepEqual([warned.status, warned.stdout], [0, '']);
  assert.equal(
    warned.stderr.trim(),
    `${ksm}:2:27: warning: No controller applies the control 'baloon_target'; did you mean 'balloon_target'?`,
  );

  // An error: exit 1.
  const bad = write('bad.policy', '(with Guests g (g.Contrl "balloon_target" g.balloon_curr))\n');
  const failed = check(bad);
  assert.deepEqual([failed.status, failed.stdout], [1, '']);
  assert.deepEqual(failed.stderr.trim().split('\n'), [
    `${bad}:1:17: error: A guest has no method 'Contrl'; did you mean 'Control'?`,
    `${bad}:1:43: error: A guest has no statistic 'balloon_curr'; did you mean 'balloon_cur'?`,
  ]);

  // --config: the statistics and controls of that configuration's collectors and controllers.
  const conf = write('mom.conf', '[main]\ncontrollers: Balloon\n[host]\ncollectors: HostMemory\n');
  const psi = write('psi.policy', '(if (> Host.psi_some_avg10 10) (Host.Control "ksm_run" 1) 0)\n');
  assert.deepEqual([check(psi).status, check(psi).stdout], [0, 'ok\n']);
  const configured = check('--config', conf, psi);
  assert.deepEqual([configured.status, configured.stdout], [0, '']);
  assert.deepEqual(configured.stderr.trim().split('\n'), [
    `${psi}:1:8: warning: Statistic 'psi_some_avg10' comes from the collector HostPressure, which the configuration does not list: it is always nil.`,
    `${psi}:1:46: warning: No configured controller applies the control 'ksm_run': setting it does nothing (add KSM to controllers).`,
  ]);

  // GuestQemuAgent brings GuestMemory's fields (through the guest agent); GuestCpuTune does not.
  const agentConf = write('agent.conf', '[guest]\ncollectors: GuestBalloon, GuestQemuAgent\n');
  const usable = write('usable.policy', '(with Guests g (if (> g.mem_usable 0) g.vcpu_count 0))\n');
  const viaAgent = check('--config', agentConf, usable);
  assert.deepEqual([viaAgent.status, viaAgent.stdout], [0, '']);
  assert.deepEqual(viaAgent.stderr.trim().split('\n'), [
    `${usable}:1:39: warning: Statistic 'vcpu_count' comes from the collector GuestCpuTune, which the configuration does not list: it is always nil.`,
  ]);

  // A configuration that does not load: its usual FILE:LINE error, exit 1, the policy unread.
  const broken = write('broken.conf', '[main]\ncontrollers: Balloon, Turbo\n');
  const refused = check('--config', broken, psi);
  assert.deepEqual([refused.status, refused.stdout], [1, '']);
  assert.match(
    refused.stderr,
    /broken\.conf:2: \[main\] controllers: invalid value 'Balloon, Turbo': unknown controller 'Turbo'/,
  );
});
