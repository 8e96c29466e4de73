// The package as an administrator gets it: `npm pack`, then `npm install -g` of the tarball into
// an empty prefix, then the installed `momd` and `momctl` run from outside the repository.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from './support/guest-image.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.error, undefined, `${cmd} ${args.join(' ')}: ${String(r.error)}`);
  return r;
}

describe('npm pack and npm install -g on a clean prefix', () => {
  let dir = '';
  let prefix = '';
  let files: string[] = [];

  before(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'momd-package-')));
    prefix = join(dir, 'prefix');
    // dist/ is built by `npm test` (and by the test's own build); packing does not build again.
    const pack = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot());
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info, pack.stdout);
    files = info.files.map((f) => f.path);
    const install = run(
      npm,
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(dir, info.filename)],
      dir,
    );
    assert.equal(install.status, 0, `npm install -g:\n${install.stdout}${install.stderr}`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the package holds the built code without its tests, the bins, policies and scenarios', () => {
    for (const f of [
      'bin/momd.js',
      'bin/momctl.js',
      'dist/src/cli/momd.js',
      'dist/src/cli/momctl.js',
      'policies/default/10-balloon.policy',
      'policies/classic/20-ksm.policy',
      'scenarios/small.yaml',
      'contrib/momd.service',
      'contrib/momd.conf',
      'docs/metrics.md',
      'dist/dashboard/index.html',
      'dist/dashboard/app.js',
      'dist/dashboard/app.css',
    ])
      assert.ok(files.includes(f), `${f} is in the package`);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.test.js') || f.startsWith('test/') || f.startsWith('src/')),
      [],
    );
    assert.deepEqual(readdirSync(join(prefix, 'bin')).sort(), ['momctl', 'momd']);
  });

  test('the installed momd shows its help and runs the simulated host with the shipped policies', () => {
    const help = run(join(prefix, 'bin', 'momd'), ['--help'], dir, 60_000);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Memory Overcommitment Manager daemon/);

    const r = run(
      join(prefix, 'bin', 'momd'),
      ['--speed', '200', '--duration', '60', '--log-format', 'json'],
      dir,
      120_000,
    );
    assert.equal(r.status, 0, r.stderr);
    const log = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const loaded = log.find((l) => /^policy loaded \(\d+ files\)$/.test(String(l['msg'])));
    assert.ok(
      String(loaded?.['files']).includes(join(prefix, 'lib', 'node_modules', 'momd', 'policies', 'default')),
      'the policies of the installed package',
    );
    assert.ok(log.filter((l) => l['cycle'] === true).length >= 6);
    // The installed package finds its dashboard page.
    assert.deepEqual(
      log.filter((l) => l['code'] === 'MOM_W_DASHBOARD'),
      [],
    );
    assert.ok(log.some((l) => l['msg'] === 'momd finished its --duration'));
  });

  test('the installed momctl simulates a shipped scenario', () => {
    const r = run(
      join(prefix, 'bin', 'momctl'),
      ['simulate', '--scenario', 'small', '--duration', '60', '--json'],
      dir,
      120_000,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(typeof JSON.parse(r.stdout), 'object');
  });
});
