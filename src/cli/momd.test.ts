// The daemon as a user runs it: bin/momd.js, with no configuration (the built-in simulated host).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Each run's own API socket: a momd already on the default one must not stop these tests. */
const apiSocket = (): string[] => [
  '--api-socket',
  join(mkdtempSync(join(tmpdir(), 'momd-sock-')), 'api.sock'),
];
const momd = (args: string[]) =>
  spawnSync(process.execPath, ['bin/momd.js', ...args, ...apiSocket()], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
const lines = (out: string): Array<Record<string, unknown>> =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('with no configuration momd runs the small scenario with the default policies and logs each cycle', () => {
  const r = momd(['--speed', '200', '--duration', '120', '--log-format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const log = lines(r.stdout);
  const cycles = log.filter((l) => l['cycle'] === true);
  // t = 0, 10, ..., 120, and any early cycle the pressure watch woke (it carries `woken`).
  assert.equal(cycles.filter((c) => c['woken'] === undefined).length, 13);
  assert.ok(cycles.every((c) => typeof c['host_free_pct'] === 'number' && typeof c['applied'] === 'number'));
  assert.ok(
    String(log.find((l) => l['msg'] === 'policy loaded (3 files)')?.['files']).includes('policies/default'),
  );
  // The small scenario runs short of memory within two minutes, and the policy acts on it.
  const actions = log.filter((l) => l['controller'] !== undefined && l['new'] !== undefined);
  assert.ok(actions.some((a) => a['controller'] === 'Balloon'));
  assert.ok(actions.every((a) => 'entity' in a && 'old' in a && 'new' in a));
});

test('momd exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['bin/momd.js', '--log-format', 'json', ...apiSocket()], {
    cwd: repoRoot,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.ok(
    lines(out).some((l) => l['msg'] === 'momd stopped by signal'),
    out,
  );
});

test('an invalid mom.conf stops start-up with the file, line, key and value named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-'));
  const conf = join(dir, 'mom.conf');
  writeFileSync(conf, '[main]\npolicy-engine-interval: fast\nsample-history-length: 0\n');
  const r = momd(['-c', conf]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /mom\.conf:2: \[main\] policy-engine-interval: invalid value 'fast'/);
  assert.match(r.stderr, /mom\.conf:3: \[main\] sample-history-length: invalid value '0'/);
});

test('a mom.conf with a policy that does not parse starts, monitors, and applies nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-'));
  writeFileSync(join(dir, 'broken.policy'), '(Host.Control "ksm_run" @)\n');
  writeFileSync(join(dir, 'mom.conf'), `[main]\nhypervisor-interface: simulated\npolicy: broken.policy\n`);
  const r = momd(['-c', join(dir, 'mom.conf'), '--speed', '200', '--duration', '30', '--log-format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const log = lines(r.stdout);
  assert.ok(
    log.some((l) =>
      String(l['policy_errors']).includes("broken.policy:1:25: error: Unexpected character '@'."),
    ),
  );
  assert.ok(!log.some((l) => l['controller'] !== undefined && l['new'] !== undefined));
});

test('on a real host with an unreachable libvirtd, momd keeps running and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-'));
  writeFileSync(
    join(dir, 'mom.conf'),
    '[main]\nhypervisor-interface: libvirt\nlibvirt-hypervisor-uri: qemu:///system?socket=/nonexistent/libvirt-sock\n' +
      'policy-engine-interval: 1\nguest-manager-interval: 1\nhost-monitor-interval: 1\nguest-monitor-interval: 1\n' +
      'ksm-restore-on-exit: false\n',
  );
  const r = momd([
    '-c',
    join(dir, 'mom.conf'),
    '--duration',
    '2.5',
    '--log-format',
    'json',
    '--verbosity',
    'debug',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const log = lines(r.stdout);
  const failures = log.filter(
    (l) => l['task'] === 'guest-manager' && /libvirtd|virsh/.test(String(l['err'])),
  );
  assert.ok(failures.length >= 2, r.stdout);
  // The same failure every second is an error once; its repeats are debug lines.
  assert.equal(failures.filter((l) => l['level'] === 50).length, 1);
  assert.ok(log.some((l) => l['msg'] === 'momd finished its --duration'));
});

/** momd as a child process whose JSON log lines are collected as they come. */
function daemon(args: string[]) {
  const child = spawn(process.execPath, ['bin/momd.js', ...args, '--log-format', 'json', ...apiSocket()], {
    cwd: repoRoot,
  });
  const log: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    log.push(...lines(parts.join('\n')));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const waitFor = async (what: string, pred: (l: Record<string, unknown>) => boolean, from = 0) => {
    for (let i = 0; i < 300; i++) {
      const hit = log.slice(from).find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; log:\n${log.map((l) => JSON.stringify(l)).join('\n')}`);
  };
  return { child, log, exited, waitFor };
}

test('SIGHUP reloads a good configuration and its new policy; a bad one is rejected and the old one runs on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-hup-'));
  const conf = join(dir, 'mom.conf');
  const writeConf = (extra: string): void =>
    writeFileSync(conf, `[main]\nhypervisor-interface: simulated\nsimulator-speed: 50\n${extra}`);
  writeFileSync(join(dir, 'a.policy'), '(Host.Control "ksm_pages_to_scan" 111)\n');
  writeFileSync(join(dir, 'b.policy'), '(Host.Control "ksm_pages_to_scan" 222)\n');
  writeFileSync(join(dir, 'broken.policy'), '(Host.Control "ksm_pages_to_scan" @)\n');
  writeConf('policy: a.policy\n');
  const d = daemon(['-c', conf]);
  try {
    const wants = (n: number) => (l: Record<string, unknown>) =>
      l['control'] === 'ksm_pages_to_scan' && l['new'] === n;
    await d.waitFor('policy a applied', wants(111));

    // A configuration that does not load: rejected with its line, the running one goes on.
    writeConf('policy: a.policy\npolicy-engine-interval: soon\n');
    let from = d.log.length;
    d.child.kill('SIGHUP');
    const rejected = await d.waitFor('the rejection', (l) => /reload rejected/.test(String(l['msg'])), from);
    assert.match(
      String(rejected['problems']),
      /mom\.conf:5: \[main\] policy-engine-interval: invalid value 'soon'/,
    );
    assert.equal(rejected['code'], 'MOM_E_CONFIG');
    await d.waitFor('a cycle after it', (l) => l['cycle'] === true, d.log.indexOf(rejected));

    // A good configuration whose policy does not parse: rejected too, with FILE:LINE:COL.
    writeConf('policy: broken.policy\n');
    from = d.log.length;
    d.child.kill('SIGHUP');
    const bad = await d.waitFor(
      'the second rejection',
      (l) => /reload rejected/.test(String(l['msg'])),
      from,
    );
    assert.match(String(bad['problems']), /broken\.policy:1:35: error: Unexpected character '@'\./);

    // A good one: the new policy is loaded and applied.
    writeConf('policy: b.policy\n');
    from = d.log.length;
    d.child.kill('SIGHUP');
    await d.waitFor('the reload', (l) => l['msg'] === 'configuration reloaded', from);
    await d.waitFor('policy b applied', wants(222), from);
    assert.ok(!d.log.some((l) => l['level'] === 60), 'nothing fatal');
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
  } finally {
    if (d.child.exitCode === null) d.child.kill('SIGKILL');
  }
});

test('momd --version prints the package version; --dry-run applies nothing', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const v = spawnSync(process.execPath, ['bin/momd.js', '--version'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), pkg.version);
  const r = momd(['--speed', '200', '--duration', '120', '--log-format', 'json', '--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  const log = lines(r.stdout);
  assert.ok(log.some((l) => l['code'] === 'MOM_W_DRY_RUN'));
  const cycles = log.filter((l) => l['cycle'] === true);
  assert.ok(cycles.length > 0 && cycles.every((c) => c['dry_run'] === true && c['applied'] === 0));
  // The same run without --dry-run acts (first test); with it, it only says what it would do.
  assert.ok(cycles.some((c) => Number(c['would_apply']) > 0));
  assert.ok(!log.some((l) => l['controller'] !== undefined && /→/.test(String(l['msg']))));
});

test('a log file is rotated as MOM documents: at max-bytes to LOG.1, LOG.2 …, backup-count kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-log-'));
  const log = join(dir, 'momd.log');
  writeFileSync(
    join(dir, 'mom.conf'),
    `[main]\nhypervisor-interface: simulated\n[logging]\nlog: ${log}\nverbosity: debug\nmax-bytes: 1000\nbackup-count: 3\n`,
  );
  const r = momd(['-c', join(dir, 'mom.conf'), '--speed', '200', '--duration', '120']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), [
    'mom.conf',
    'momd.log',
    'momd.log.1',
    'momd.log.2',
    'momd.log.3',
  ]);
  for (const n of [1, 2, 3]) {
    const rotated = readFileSync(`${log}.${n}`, 'utf8');
    // Rotated when it passed max-bytes: at most one line more.
    const lastLine = rotated.trimEnd().split('\n').at(-1) ?? '';
    assert.ok(rotated.length >= 1000 && rotated.length <= 1000 + lastLine.length + 1, `${log}.${n}`);
    assert.ok(
      rotated
        .split('\n')
        .slice(0, -1)
        .every((l) => l.startsWith('{')),
      'whole JSON lines',
    );
  }
  // The live file holds the end of the run.
  assert.match(readFileSync(log, 'utf8'), /momd finished its --duration/);
});

test("plot-dir: MOM's plot files, a momplot-NNN directory per run with host.dat and one file per guest", () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-plot-'));
  writeFileSync(join(dir, 'mom.conf'), `[main]\nhypervisor-interface: simulated\nplot-dir: plots\n`);
  mkdirSync(join(dir, 'plots'));
  for (const run of ['momplot-000', 'momplot-001']) {
    const r = momd([
      '-c',
      join(dir, 'mom.conf'),
      '--speed',
      '200',
      '--duration',
      '30',
      '--log-format',
      'json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lines(r.stdout).some((l) => l['plot_dir'] === join(dir, 'plots', run)));
  }
  const run = join(dir, 'plots', 'momplot-001');
  assert.deepEqual(readdirSync(run).sort(), ['batch.dat', 'build.dat', 'host.dat', 'idle.dat', 'web.dat']);
  const host = readFileSync(join(run, 'host.dat'), 'utf8').trimEnd().split('\n');
  const header = (host[0] ?? '').split('\t');
  assert.equal(header[0], '# time');
  assert.ok(header.includes('mem_free') && header.includes('swap_in'));
  assert.deepEqual(header.slice(1), [...header.slice(1)].sort(), 'fields in name order, as MOM');
  const rows = host.slice(1).filter((l) => !l.startsWith('#'));
  assert.ok(rows.length >= 6, 'a row per host sample (every 5 s of 30)');
  for (const row of rows) assert.equal(row.split('\t').length, header.length);
});

test("MOM's command line: -c, -d, --pid-file, -r, -p, -l and -v do what MOM's momd does with them", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-flags-'));
  writeFileSync(join(dir, 'mom.conf'), '[main]\nhypervisor-interface: simulated\nsimulator-speed: 50\n');
  // `debug` logs at debug level: seen only with -v debug.
  writeFileSync(join(dir, 'rules.policy'), '(debug "rules") (Host.Control "ksm_pages_to_scan" 111)\n');
  mkdirSync(join(dir, 'plots'));
  const [pidPath, logPath] = [join(dir, 'momd.pid'), join(dir, 'momd.log')];
  // As MOM's own unit starts it (ExecStart=momd -c FILE -d --pid-file FILE), plus MOM's other flags.
  const args = ['-c', join(dir, 'mom.conf'), '-d', '--pid-file', pidPath, '-r', join(dir, 'rules.policy')];
  args.push('-p', join(dir, 'plots'), '-l', logPath, '-v', 'debug', ...apiSocket());
  const child = spawn(process.execPath, ['bin/momd.js', ...args], { cwd: repoRoot });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const logged = () => (existsSync(logPath) ? lines(readFileSync(logPath, 'utf8')) : []);
    for (let i = 0; i < 300 && !logged().some((l) => l['new'] === 111); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(pidPath, 'utf8'), `${child.pid}\n`, 'the pid file, while it runs');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!existsSync(pidPath), 'removed at a clean exit');
    const log = logged();
    assert.ok(
      log.some((l) => l['control'] === 'ksm_pages_to_scan' && l['new'] === 111),
      '-r: the policy',
    );
    assert.equal(log.filter((l) => l['code'] === 'MOM_W_NO_FORK').length, 1, '-d: said once');
    assert.ok(
      log.some((l) => l['level'] === 20 && l['policy_debug'] === true),
      '-v debug',
    );
    assert.ok(
      log.some((l) => l['plot_dir'] === join(dir, 'plots', 'momplot-000')),
      '-p',
    );
    assert.ok(log.some((l) => l['msg'] === 'momd stopped by signal'));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('--pid-file: a running momd holds it against a second one; a stale one is replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-pidfile-'));
  const pidPath = join(dir, 'momd.pid');
  const first = daemon(['--pid-file', pidPath, '--speed', '50']);
  try {
    await first.waitFor('the first cycle', (l) => l['cycle'] === true);
    const second = momd(['--pid-file', pidPath, '--duration', '5']);
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`momd is already running as pid ${first.child.pid}`));
    assert.equal(readFileSync(pidPath, 'utf8'), `${first.child.pid}\n`, 'left to its owner');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  }
  // What a momd that was killed leaves behind: the pid of a process that is gone.
  writeFileSync(pidPath, `${first.child.pid}\n`);
  writeFileSync(join(dir, 'mom.conf'), '[main]\nhypervisor-interface: simulated\n');
  const conf = join(dir, 'mom.conf');
  const r = momd(['--config-file', conf, '--pid-file', pidPath, '--duration', '1', '--speed', '50']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!existsSync(pidPath));
});

test("vdsm's service command line, momd -c /etc/vdsm/mom.conf, runs with vdsm's configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-vdsm-'));
  mkdirSync(join(dir, 'mom.d'));
  // test/fixtures/vdsm/mom.conf, with its paths moved into this test's directory and libvirtd
  // unreachable, so that nothing of this machine is touched.
  const conf = readFileSync(join(repoRoot, 'test/fixtures/vdsm/mom.conf'), 'utf8')
    .replace('rpc-port: /var/run/vdsm/mom-vdsm.sock', `rpc-port: ${join(dir, 'mom-vdsm.sock')}`)
    .replace('policy-dir: /etc/vdsm/mom.d', 'policy-dir: mom.d')
    .replace('log: /var/log/vdsm/mom.log', 'log: stdio')
    .replace(
      'hypervisor-interface: vdsmjsonrpcbulk',
      'hypervisor-interface: vdsmjsonrpcbulk\nlibvirt-hypervisor-uri: qemu:///system?socket=/nonexistent/libvirt-sock\nksm-restore-on-exit: false',
    );
  writeFileSync(join(dir, 'mom.conf'), conf);
  const r = momd(['-c', join(dir, 'mom.conf'), '--duration', '2', '--log-format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const log = lines(r.stdout);
  const vdsm = log.filter((l) => /vdsmjsonrpcbulk/.test(String(l['msg'])));
  assert.equal(vdsm.length, 1, 'one warning');
  assert.equal(vdsm[0]?.['code'], 'MOM_W_CONFIG');
  assert.ok(log.some((l) => l['hypervisor'] === 'libvirt' && /^momd started/.test(String(l['msg']))));
  assert.ok(
    log.some((l) => l['rpc'] !== undefined),
    "MOM's XML-RPC on vdsm's socket",
  );
  assert.ok(log.some((l) => l['msg'] === 'momd finished its --duration'));
});
