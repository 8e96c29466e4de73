import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEFAULT_CONFIG_TEXT, loadConfig, type MomConfig } from './index.js';

/** A mom.conf like the one MOM ships (doc/mom-balloon+ksm.conf), plus an internal section. */
const MOM_CONF = `[main]
# The wake up frequency of the main daemon (in seconds)
main-loop-interval: 5

# The data collection interval for host statistics (in seconds)
host-monitor-interval: 5

# The data collection interval for guest statistics (in seconds)
guest-monitor-interval: 5

# The wake up frequency of the guest manager (in seconds).  The guest manager
# sets up monitoring and control for newly-created guests and cleans up after
# deleted guests.
guest-manager-interval: 5

# The interface MOM using to discover active guests and collect guest memory
# statistics. There're two choices for it: libvirt or vdsm.
hypervisor-interface: libvirt

# The wake up frequency of the policy engine (in seconds).  During each
# interval the policy engine evaluates the policy and passes the results
# to each enabled controller plugin.
policy-engine-interval: 10

# A comma-separated list of Controller plugins to enable
controllers: Balloon, KSM

# Sets the maximum number of statistic samples to keep for the purpose of
# calculating moving averages.
sample-history-length: 10

# The URI to use when connecting to this host's libvirt interface.  If this is
# left blank then the system default URI is used.
libvirt-hypervisor-uri:

# Set this to an existing, writable directory to enable plotting.
plot-dir:

# Activate the RPC server on the designated port (-1 to disable).
rpc-port: -1

# At startup, load a policy from the given file.  If empty, no policy is loaded
policy: /etc/mom.policy

# At startup, load policies from the given directory.
policy-dir:

[logging]
# Set the destination for program log messages.
log: stdio

# Set the logging verbosity level.
# This option can be specified by number or name.
verbosity: info

#log: /var/log/mom.log
## The following two variables are used only when logging is directed to a file.
#max-bytes: 2097152
#backup-count: 5

[host]
# A comma-separated list of Collector plugins to use for Host data collection.
collectors: HostMemory, HostKSM

[guest]
# A comma-separated list of Collector plugins to use for Guest data collection.
collectors: GuestQemuProc, GuestMemory, GuestBalloon

# Collector-specific configuration for GuestQemuAgent
[Collector: GuestQemuAgent]
socket_path: /var/lib/libvirt/qemu

[__int__]
running: 0
`;

/** The problems of a ConfigError thrown by `fn`. */
function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

const load = (text: string, overrides?: Record<string, string>) =>
  loadConfig({ file: '/etc/mom.conf', text, ...(overrides ? { overrides } : {}) });

test("MOM's shipped mom.conf is accepted; its internal section warns, a collector's key at MOM's default does not", () => {
  const { config, warnings } = load(MOM_CONF);
  assert.equal(config.file, '/etc/mom.conf');
  assert.deepEqual(config.main, {
    ...loadConfig({}).config.main,
    hypervisorInterface: 'libvirt',
    policy: '/etc/mom.policy',
    // MOM's own list: no Zswap.
    controllers: ['Balloon', 'KSM'],
  });
  assert.deepEqual(config.logging, { log: 'stdio', verbosity: 'info', maxBytes: 2097152, backupCount: 5 });
  // HostMemory brings HostCpu along (momd had cpu_count in HostMemory before HostCpu).
  assert.deepEqual(config.host.collectors, ['HostMemory', 'HostCpu', 'HostKSM']);
  assert.deepEqual(config.guest.collectors, ['GuestQemuProc', 'GuestMemory', 'GuestBalloon']);
  assert.deepEqual(warnings, ['/etc/mom.conf:73: unknown section [__int__], ignored']);
});

test('"key = value" style is read like "key: value"', () => {
  const { config } = load(
    '[main]\npolicy-engine-interval = 2.5\nrpc-port=4000\n[logging]\nverbosity = debug\n',
  );
  assert.equal(config.main.policyEngineInterval, 2.5);
  assert.deepEqual(config.main.rpcPort, { kind: 'tcp', port: 4000 });
  assert.equal(config.logging.verbosity, 'debug');
});

test('continuation lines: a list may span lines; a number may not', () => {
  const { config } = load(
    '[main]\ncontrollers: Balloon,\n    KSM\n[host]\ncollectors:\n  HostMemory\n  HostPressure\n',
  );
  assert.deepEqual(config.main.controllers, ['Balloon', 'KSM']);
  assert.deepEqual(config.host.collectors, ['HostMemory', 'HostCpu', 'HostPressure']);
  assert.deepEqual(
    problems(() => load('[main]\nrpc-port: 1\n  2\n')),
    [
      "/etc/mom.conf:2: [main] rpc-port: invalid value '1\\n2': expected -1 (off), a port 0..65535 or a unix socket path",
    ],
  );
});

test('[DEFAULT] applies to every section that knows the key; the section itself wins', () => {
  const text =
    '[DEFAULT]\ncollectors: HostMemory\nmax-bytes: 1000\nfoo: 1\n[guest]\ncollectors: GuestMemory\n';
  const { config, warnings } = load(text);
  assert.deepEqual(config.host.collectors, ['HostMemory', 'HostCpu']);
  assert.deepEqual(config.guest.collectors, ['GuestMemory']);
  assert.equal(config.logging.maxBytes, 1000);
  assert.deepEqual(warnings, [
    // Where a [DEFAULT] value lands is said in the warnings too.
    '/etc/mom.conf:3: [logging] max-bytes (from [DEFAULT]): has no effect when logging to stdio',
    "/etc/mom.conf:4: unknown key 'foo' in [DEFAULT], ignored",
  ]);
  // A bad value in [DEFAULT] is reported at its line, for the section that uses it.
  assert.deepEqual(
    problems(() => load('[DEFAULT]\nverbosity: loud\n')),
    [
      "/etc/mom.conf:2: [logging] verbosity (from [DEFAULT]): invalid value 'loud': expected one of debug, info, warn, error, critical",
    ],
  );
});

test('keys are case-insensitive, and so are enum, boolean and plugin names', () => {
  const text = [
    '[main]',
    'Policy-Engine-Interval: 3',
    'HYPERVISOR-INTERFACE: QMP',
    'guest-manager-multi-thread: No',
    'controllers: balloon, ksm',
    '[logging]',
    'Verbosity: WARNING',
  ].join('\n');
  const { config, warnings } = load(text);
  assert.equal(config.main.policyEngineInterval, 3);
  assert.equal(config.main.hypervisorInterface, 'qmp');
  assert.equal(config.main.guestManagerMultiThread, false);
  assert.deepEqual(config.main.controllers, ['Balloon', 'KSM']);
  assert.equal(config.logging.verbosity, 'warn');
  // The value is read (case-insensitively), and said to change nothing in momd.
  assert.deepEqual(warnings, [
    '/etc/mom.conf:4: [main] guest-manager-multi-thread: has no effect in momd (every guest is collected in one request per cycle): ignored',
  ]);
});

test('an invalid interval is rejected with file, line, section, key and value', () => {
  for (const bad of ['fast', '0', '-5', '', 'inf', '1e999']) {
    assert.deepEqual(
      problems(() => load(`[main]\n\n\n\n\n\npolicy-engine-interval: ${bad}\n`)),
      [
        `/etc/mom.conf:7: [main] policy-engine-interval: invalid value '${bad}': expected a positive number of seconds`,
      ],
    );
  }
  assert.equal(load('[main]\nhost-monitor-interval: 0.5\n').config.main.hostMonitorInterval, 0.5);
});

test('an invalid integer is rejected', () => {
  for (const bad of ['0', '2.5', 'ten', '-1']) {
    assert.deepEqual(
      problems(() => load(`[main]\nsample-history-length: ${bad}\n`)),
      [`/etc/mom.conf:2: [main] sample-history-length: invalid value '${bad}': expected an integer >= 1`],
    );
  }
  assert.deepEqual(
    problems(() => load('[logging]\nmax-bytes: 2MB\n')),
    ["/etc/mom.conf:2: [logging] max-bytes: invalid value '2MB': expected an integer >= 0 (bytes)"],
  );
  assert.deepEqual(
    problems(() => load('[main]\nsimulator-seed: 1.5\n')),
    ["/etc/mom.conf:2: [main] simulator-seed: invalid value '1.5': expected an integer"],
  );
});

test('rpc-port as MOM reads it: an integer is a TCP port (negative: off), other text a unix socket', () => {
  for (const bad of ['65536', '99999999']) {
    assert.deepEqual(
      problems(() => load(`[main]\nrpc-port: ${bad}\n`)),
      [
        `/etc/mom.conf:2: [main] rpc-port: invalid value '${bad}': expected -1 (off), a port 0..65535 or a unix socket path`,
      ],
    );
  }
  assert.equal(load('[main]\nrpc-port: -1\n').config.main.rpcPort, null);
  assert.equal(load('[main]\nrpc-port: -2\n').config.main.rpcPort, null);
  assert.equal(load('[main]\nrpc-port:\n').config.main.rpcPort, null);
  assert.deepEqual(load('[main]\nrpc-port: 0\n').config.main.rpcPort, { kind: 'tcp', port: 0 });
  assert.deepEqual(load('[main]\nrpc-port: 65535\n').config.main.rpcPort, { kind: 'tcp', port: 65535 });
  assert.deepEqual(load('[main]\nrpc-port: /var/run/vdsm/mom-vdsm.sock\n').config.main.rpcPort, {
    kind: 'unix',
    path: '/var/run/vdsm/mom-vdsm.sock',
  });
  // A relative path is relative to the file's directory, like the other paths.
  assert.deepEqual(load('[main]\nrpc-port: run/mom.sock\n').config.main.rpcPort, {
    kind: 'unix',
    path: '/etc/run/mom.sock',
  });
});

test("an invalid boolean is rejected; ConfigParser's words are accepted", () => {
  assert.deepEqual(
    problems(() => load('[main]\nguest-manager-multi-thread: maybe\n')),
    [
      "/etc/mom.conf:2: [main] guest-manager-multi-thread: invalid value 'maybe': expected one of true, false, yes, no, on, off, 1, 0",
    ],
  );
  for (const [word, value] of [
    ['yes', true],
    ['ON', true],
    ['1', true],
    ['off', false],
    ['0', false],
    ['False', false],
  ] as const) {
    assert.equal(
      load(`[main]\nguest-manager-multi-thread: ${word}\n`).config.main.guestManagerMultiThread,
      value,
    );
  }
});

test("an invalid enum value is rejected; MOM's verbosity numbers are accepted", () => {
  assert.deepEqual(
    problems(() => load('[main]\nhypervisor-interface: xen\n')),
    [
      "/etc/mom.conf:2: [main] hypervisor-interface: invalid value 'xen': expected one of simulated, libvirt, qmp (MOM's vdsm interfaces are read as libvirt)",
    ],
  );
  assert.deepEqual(
    problems(() => load('[logging]\nverbosity: 6\n')),
    [
      "/etc/mom.conf:2: [logging] verbosity: invalid value '6': expected one of debug, info, warn, error, critical",
    ],
  );
  const levels = ['5', '4', '3', '2', '1'].map(
    (n) => load(`[logging]\nverbosity: ${n}\n`).config.logging.verbosity,
  );
  assert.deepEqual(levels, ['debug', 'info', 'warn', 'error', 'critical']);
});

test('an unknown list entry is rejected naming it; MOM-only plugins warn and are dropped', () => {
  assert.deepEqual(
    problems(() => load('[main]\ncontrollers: Balloon, Turbo\n')),
    [
      "/etc/mom.conf:2: [main] controllers: invalid value 'Balloon, Turbo': unknown controller 'Turbo' (expected one of Balloon, KSM, Zswap, CpuTune, IoTune, CgroupLimit)",
    ],
  );
  assert.deepEqual(
    problems(() => load('[host]\ncollectors: GuestMemory\n')),
    [
      "/etc/mom.conf:2: [host] collectors: invalid value 'GuestMemory': unknown host collector 'GuestMemory' (expected one of HostMemory, HostKSM, HostSwap, HostPressure, HostCpu, HostTime)",
    ],
  );
  const text = [
    '[main]',
    'controllers: Balloon, KSM, CpuTune, IoTune, CgroupLimit,',
    '[guest]',
    'collectors: GuestQemuProc, GuestMemoryOptional, GuestQemuAgent, GuestMemory, GuestCpuTune, GuestIoTuneOptional',
  ].join('\n');
  const { config, warnings } = load(text);
  assert.deepEqual(config.main.controllers, ['Balloon', 'KSM', 'CpuTune', 'IoTune', 'CgroupLimit']);
  assert.deepEqual(config.guest.collectors, [
    'GuestQemuProc',
    'GuestMemory',
    'GuestQemuAgent',
    'GuestCpuTune',
    'GuestIoTune',
  ]);
  assert.deepEqual(warnings, [
    "/etc/mom.conf:4: [guest] collectors: 'GuestMemoryOptional' is read as 'GuestMemory'",
    "/etc/mom.conf:4: [guest] collectors: 'GuestIoTuneOptional' is read as 'GuestIoTune'",
  ]);
});

test('several errors are reported together, one line each, in file order', () => {
  const text = [
    '[main]',
    'rpc-port: 99999',
    'policy-engine-interval: soon',
    'nonsense',
    '[logging]',
    'verbosity: chatty',
    '[host]',
    'collectors: HostMemory, Nope',
  ].join('\n');
  let error: unknown;
  try {
    load(text, { 'main.sample-history-length': 'many' });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  assert.equal(error.name, 'ConfigError');
  assert.deepEqual(error.message.split('\n'), [
    "/etc/mom.conf:2: [main] rpc-port: invalid value '99999': expected -1 (off), a port 0..65535 or a unix socket path",
    "/etc/mom.conf:3: [main] policy-engine-interval: invalid value 'soon': expected a positive number of seconds",
    "/etc/mom.conf:4:1: malformed line 'nonsense': expected 'key: value', 'key = value' or a [section] header",
    "/etc/mom.conf:6: [logging] verbosity: invalid value 'chatty': expected one of debug, info, warn, error, critical",
    "/etc/mom.conf:8: [host] collectors: invalid value 'HostMemory, Nope': unknown host collector 'Nope' (expected one of HostMemory, HostKSM, HostSwap, HostPressure, HostCpu, HostTime)",
    "override main.sample-history-length: [main] sample-history-length: invalid value 'many': expected an integer >= 1",
  ]);
});

test('an unknown key warns and is ignored, with a hint when one is close', () => {
  const text =
    '[main]\nfoo: 1\npolicy_engine_interval: 3\nverbosity: debug\n[Main]\nrpc-port: 5\n[logging]\nlog-level: x\n';
  const { config, warnings } = load(text);
  assert.equal(config.main.policyEngineInterval, 10);
  assert.equal(config.logging.verbosity, 'info');
  assert.equal(config.main.rpcPort, null);
  assert.deepEqual(warnings, [
    "/etc/mom.conf:2: unknown key 'foo' in [main], ignored",
    "/etc/mom.conf:3: unknown key 'policy_engine_interval' in [main], ignored (did you mean 'policy-engine-interval'?)",
    "/etc/mom.conf:4: unknown key 'verbosity' in [main], ignored (it belongs in [logging])",
    '/etc/mom.conf:5: unknown section [Main], ignored (section names are case-sensitive: did you mean [main]?)',
    "/etc/mom.conf:8: unknown key 'log-level' in [logging], ignored",
  ]);
});

test('overrides win over the file, are validated the same way, and must name known keys', () => {
  const text = '[main]\npolicy-engine-interval: 10\ncontrollers: Balloon\n';
  const { config, warnings } = load(text, {
    'main.policy-engine-interval': '2',
    'main.controllers': 'KSM, IoTune',
    'logging.verbosity': 'debug',
  });
  assert.equal(config.main.policyEngineInterval, 2);
  assert.deepEqual(config.main.controllers, ['KSM', 'IoTune']);
  assert.equal(config.logging.verbosity, 'debug');
  assert.deepEqual(warnings, []);

  assert.deepEqual(
    problems(() =>
      load(text, {
        'main.policy-engine-interval': 'fast',
        'main.polcy': 'p',
        'mian.policy': 'p',
        policy: 'p',
      }),
    ),
    [
      "override main.policy-engine-interval: [main] policy-engine-interval: invalid value 'fast': expected a positive number of seconds",
      "override main.polcy: unknown key 'polcy' in [main] (did you mean 'policy'?)",
      'override mian.policy: unknown section [mian]',
      "override 'policy': expected SECTION.KEY",
    ],
  );
  // Overrides apply without a file too, and are taken literally (no %-interpolation).
  const bare = loadConfig({ overrides: { 'main.plot-dir': '/tmp/100%' } }).config;
  assert.equal(bare.main.plotDir, '/tmp/100%');
  assert.equal(bare.main.hypervisorInterface, 'simulated');
});

test('no file: the built-in defaults, on the simulated hypervisor', () => {
  const { config, warnings } = loadConfig({});
  const expected: MomConfig = {
    file: null,
    main: {
      mainLoopInterval: 5,
      hostMonitorInterval: 5,
      guestMonitorInterval: 5,
      guestManagerInterval: 5,
      policyEngineInterval: 10,
      hypervisorInterface: 'simulated',
      controllers: ['Balloon', 'KSM', 'Zswap'],
      sampleHistoryLength: 10,
      policy: null,
      policyDir: null,
      plotDir: null,
      recordDir: null,
      recordMaxSize: 64 * 1024 * 1024,
      recordMaxFiles: 16,
      recordRotateEvery: '1d',
      rpcPort: null,
      libvirtHypervisorUri: 'qemu:///system',
      guestManagerMultiThread: true,
      simulatorScenario: 'small',
      simulatorSeed: 1,
      simulatorSpeed: 1,
      qmpSocketGlob: '/var/run/qemu-server/*.qmp',
      hostMemorySource: null,
      balloonStuckTimeout: 60,
      policyFallbackAfter: 3,
      deflateOnExit: false,
      taskTimeout: 60,
      contentionPsiFull: 10,
      contentionAfter: 30,
      contentionHook: null,
      contentionPause: false,
      contentionPauseAfter: 0,
      contentionPauseRecord: '/run/momd/contention-paused.json',
      ksmRestoreOnExit: true,
      pressureCheckInterval: 0.5,
      pressureWakeFree: 0.08,
      ksmOwned: 'auto',
      zswapOwned: false,
      dryRun: false,
      apiSocket: '/run/momd/api.sock',
      apiListen: null,
      apiTokenFile: null,
      apiTlsCert: null,
      apiTlsKey: null,
      metricsListen: null,
    },
    logging: { log: 'stdio', verbosity: 'info', maxBytes: 2097152, backupCount: 5 },
    host: { collectors: ['HostMemory', 'HostCpu', 'HostKSM', 'HostPressure'] },
    guest: {
      collectors: ['GuestQemuProc', 'GuestMemory', 'GuestBalloon'],
      agentSocket: { socketPath: '/var/lib/libvirt/qemu', socketNameTemplate: '%(name)s.agent' },
    },
    guests: [],
  };
  assert.deepEqual(config, expected);
  assert.deepEqual(warnings, []);
  // A file that sets nothing gets MOM's hypervisor default instead.
  assert.equal(load('').config.main.hypervisorInterface, 'libvirt');
});

test('DEFAULT_CONFIG_TEXT loads without warnings to the defaults, and docs/configuration.md shows it', () => {
  const { config, warnings } = loadConfig({ text: DEFAULT_CONFIG_TEXT });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    ...loadConfig({}).config,
    main: { ...loadConfig({}).config.main, hypervisorInterface: 'libvirt' },
  });
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    assert.notEqual(dirname(dir), dir, 'repository root not found');
    dir = dirname(dir);
  }
  const docs = readFileSync(join(dir, 'docs', 'configuration.md'), 'utf8');
  assert.ok(
    docs.includes('```ini\n' + DEFAULT_CONFIG_TEXT + '```'),
    'docs/configuration.md shows DEFAULT_CONFIG_TEXT',
  );
});

test('malformed lines give FILE:LINE:COL', () => {
  assert.deepEqual(
    problems(() => load('policy: x\n[main]\n  no delimiter here\n[logging\nlog: stdio\n')),
    [
      "/etc/mom.conf:1:1: key 'policy' appears before any [section] header",
      "/etc/mom.conf:3:3: malformed line 'no delimiter here': expected 'key: value', 'key = value' or a [section] header",
      "/etc/mom.conf:4:1: unclosed '[' in section header '[logging'",
    ],
  );
});

test('a file is read from disk; relative paths are resolved against its directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-config-'));
  try {
    const file = join(dir, 'mom.conf');
    const text = [
      '[main]',
      'policy: policies/main.policy',
      'policy-dir: mom.d',
      'plot-dir: /var/tmp/plots',
      'simulator-scenario: scenarios/busy.yaml',
      '[logging]',
      'log: mom.log',
    ];
    writeFileSync(file, text.join('\n'));
    const { config } = loadConfig({ file });
    assert.equal(config.file, file);
    assert.equal(config.main.policy, join(dir, 'policies/main.policy'));
    assert.equal(config.main.policyDir, join(dir, 'mom.d'));
    assert.equal(config.main.plotDir, '/var/tmp/plots');
    assert.equal(config.main.simulatorScenario, join(dir, 'scenarios/busy.yaml'));
    assert.equal(config.logging.log, join(dir, 'mom.log'));
    // A scenario name stays a name; override paths are relative to the working directory.
    const o = loadConfig({
      file,
      overrides: { 'main.simulator-scenario': 'large', 'main.policy': 'p.policy' },
    });
    assert.equal(o.config.main.simulatorScenario, 'large');
    assert.equal(o.config.main.policy, resolve('p.policy'));
    assert.equal(o.config.main.policyDir, join(dir, 'mom.d'));

    const missing = join(dir, 'nope.conf');
    const [problem, ...rest] = problems(() => loadConfig({ file: missing }));
    assert.match(problem ?? '', new RegExp(`^${missing}: cannot read the configuration file: ENOENT`));
    assert.deepEqual(rest, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ConfigParser's %(name)s interpolation works, and helper keys it uses are not unknown", () => {
  const text = '[DEFAULT]\nbase: /srv/mom\n[main]\npolicy-dir: %(base)s/policies\nplot-dir: %(base)s/100%%\n';
  const { config, warnings } = load(text);
  assert.equal(config.main.policyDir, '/srv/mom/policies');
  assert.equal(config.main.plotDir, '/srv/mom/100%');
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    problems(() => load('[main]\nplot-dir: /tmp/50%\n')),
    [
      "/etc/mom.conf:2: [main] plot-dir: invalid value '/tmp/50%': '%' must be followed by '%' or '(' (write '%%' for a literal '%')",
    ],
  );
  assert.deepEqual(
    problems(() => load('[DEFAULT]\nn: ten\n[main]\nsample-history-length: %(n)s\n')),
    [
      "/etc/mom.conf:4: [main] sample-history-length: invalid value 'ten' (written '%(n)s'): expected an integer >= 1",
    ],
  );
});

test('policy and policy-dir may both be set; libvirt-hypervisor-uri empty means qemu:///system', () => {
  const { config } = load('[main]\npolicy: a.policy\npolicy-dir: /etc/mom.d\nlibvirt-hypervisor-uri:\n');
  assert.equal(config.main.policy, '/etc/a.policy');
  assert.equal(config.main.policyDir, '/etc/mom.d');
  assert.equal(config.main.libvirtHypervisorUri, 'qemu:///system');
  assert.equal(
    load('[main]\nlibvirt-hypervisor-uri: qemu+ssh://h/system\n').config.main.libvirtHypervisorUri,
    'qemu+ssh://h/system',
  );
  assert.deepEqual(
    problems(() => load('[main]\nsimulator-speed: 0\n')),
    [
      "/etc/mom.conf:2: [main] simulator-speed: invalid value '0': expected a positive number (simulated seconds per real second)",
    ],
  );
});

test('[guest:NAME] sections: a floor, a ceiling and an opt-out per guest, by name or uuid', () => {
  const { config, warnings } = load(
    [
      '[guest:web1]',
      'balloon-floor: 512M',
      'balloon-ceiling: 2GiB',
      '',
      '[guest: 6a7b1b44-0f4f-4a7c-9d2e-1c1f8d3e4b5a]',
      'balloon: off',
      'shares: 500',
      '',
      '[guest:db]',
      'balloon-floor: 262144K',
    ].join('\n'),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.guests, [
    { match: 'web1', floorKib: 512 * 1024, ceilingKib: 2 * 1024 * 1024, balloon: true, shares: 1000 },
    {
      match: '6a7b1b44-0f4f-4a7c-9d2e-1c1f8d3e4b5a',
      floorKib: null,
      ceilingKib: null,
      balloon: false,
      shares: 500,
    },
    { match: 'db', floorKib: 262144, ceilingKib: null, balloon: true, shares: 1000 },
  ]);
});

test('[guest:NAME] sections: bad sizes, a floor above the ceiling and a repeated guest are errors naming the line; unknown keys warn', () => {
  assert.throws(
    () =>
      load(
        [
          '[guest:web1]',
          'balloon-floor: 512',
          'balloon-ceiling: lots',
          '[guest:web2]',
          'balloon-floor: 2G',
          'balloon-ceiling: 1G',
          'baloon: off',
          '[guest: web2]',
          'balloon: off',
        ].join('\n'),
      ),
    (err: Error) => {
      assert.match(
        err.message,
        /mom\.conf:2: \[guest:web1\] balloon-floor: invalid value '512': expected a size with a unit/,
      );
      assert.match(err.message, /mom\.conf:3: \[guest:web1\] balloon-ceiling: invalid value 'lots'/);
      assert.match(
        err.message,
        /mom\.conf:4: \[guest:web2\]: balloon-floor \(2097152 KiB\) is above balloon-ceiling \(1048576 KiB\)/,
      );
      assert.match(err.message, /mom\.conf:8: \[guest: web2\]: a second section for guest 'web2'/);
      return true;
    },
  );
  const { warnings } = load('[guest:web1]\nbaloon: off\n');
  assert.deepEqual(warnings, [
    "/etc/mom.conf:2: [guest:web1] baloon: unknown key 'baloon' in a guest section, ignored (did you mean 'balloon'?)",
  ]);
});

test('zswap-owned: false by default, a boolean; the Zswap controller is listed by default and by name', () => {
  assert.equal(loadConfig({}).config.main.zswapOwned, false);
  const { config, warnings } = load('[main]\nzswap-owned: yes\ncontrollers: balloon, zswap\n');
  assert.equal(config.main.zswapOwned, true);
  assert.deepEqual(config.main.controllers, ['Balloon', 'Zswap']);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    problems(() => load('[main]\nzswap-owned: auto\n')),
    [
      "/etc/mom.conf:2: [main] zswap-owned: invalid value 'auto': expected one of true, false, yes, no, on, off, 1, 0",
    ],
  );
  assert.match(DEFAULT_CONFIG_TEXT, /\n# \(momd\) Whether momd drives zswap[^]*\nzswap-owned: false\n/);
});

test('the control API keys: TCP needs a token file, TLS needs both files, both name their line', () => {
  const ok = load('[main]\napi-listen: 127.0.0.1:8181\napi-token-file: token\napi-socket:\ndry-run: yes\n');
  assert.deepEqual(ok.config.main.apiListen, { host: '127.0.0.1', port: 8181 });
  assert.equal(ok.config.main.apiTokenFile, join(dirname(resolve('/etc/mom.conf')), 'token'));
  assert.equal(ok.config.main.apiSocket, null);
  assert.equal(ok.config.main.dryRun, true);
  assert.deepEqual(load('[main]\napi-listen: [::1]:0\napi-token-file: /t\n').config.main.apiListen, {
    host: '::1',
    port: 0,
  });
  assert.deepEqual(
    problems(() => load('[main]\n\napi-listen: 0.0.0.0:8181\napi-tls-key: k.pem\n')),
    [
      '/etc/mom.conf:3: [main] api-listen: a TCP listener needs api-token-file (a bearer token every request must carry); momd does not start without one',
      '/etc/mom.conf:4: [main] api-tls-key: needs api-tls-cert as well',
    ],
  );
  assert.deepEqual(
    problems(() => load('[main]\napi-listen: localhost\n')),
    [
      "/etc/mom.conf:2: [main] api-listen: invalid value 'localhost': expected HOST:PORT such as 127.0.0.1:9177 or [::1]:9177 (port 0..65535), or empty for off",
    ],
  );
  // A token or TLS without TCP does nothing: said, not silent.
  assert.deepEqual(load('[main]\napi-token-file: /t\n').warnings, [
    '/etc/mom.conf:2: [main] api-token-file: has no effect without api-listen (the unix socket needs no token)',
  ]);
});

test('metrics-listen: HOST:PORT or [IPv6]:PORT; empty is off; anything else names what is expected', () => {
  const listen = (v: string) =>
    loadConfig({ file: '/etc/mom.conf', text: `[main]\nmetrics-listen: ${v}\n` }).config.main.metricsListen;
  assert.equal(listen(''), null);
  assert.deepEqual(listen('127.0.0.1:9177'), { host: '127.0.0.1', port: 9177 });
  assert.deepEqual(listen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(listen('localhost:9177'), { host: 'localhost', port: 9177 });
  for (const bad of ['9177', '127.0.0.1', '127.0.0.1:70000', '::1:9177', 'http://x:1'])
    assert.throws(
      () => listen(bad),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems[0] ===
          `/etc/mom.conf:2: [main] metrics-listen: invalid value '${bad}': expected HOST:PORT such as 127.0.0.1:9177 or [::1]:9177 (port 0..65535), or empty for off`,
    );
});

test('a key set to a value that has no effect here is a warning naming its line, never silent', () => {
  const warnings = (text: string) => loadConfig({ file: '/etc/mom.conf', text }).warnings;
  // rpc-port works now (MOM's XML-RPC): it warns of nothing.
  assert.deepEqual(warnings('[main]\nhypervisor-interface: libvirt\nrpc-port: 8888\n'), []);
  assert.deepEqual(warnings('[main]\nhypervisor-interface: libvirt\nguest-manager-multi-thread: false\n'), [
    '/etc/mom.conf:3: [main] guest-manager-multi-thread: has no effect in momd (every guest is collected in one request per cycle): ignored',
  ]);
  assert.deepEqual(
    warnings(
      '[main]\nhypervisor-interface: qmp\nsimulator-seed: 4\nlibvirt-hypervisor-uri: qemu:///session\n',
    ),
    [
      '/etc/mom.conf:3: [main] simulator-seed: has no effect with hypervisor-interface qmp (only with simulated)',
      '/etc/mom.conf:4: [main] libvirt-hypervisor-uri: has no effect with hypervisor-interface qmp (only with libvirt)',
    ],
  );
  assert.deepEqual(warnings('[logging]\nmax-bytes: 100\nbackup-count: 2\n'), [
    '/etc/mom.conf:2: [logging] max-bytes: has no effect when logging to stdio',
    '/etc/mom.conf:3: [logging] backup-count: has no effect when logging to stdio',
  ]);
  // The same keys where they work, or at their defaults (MOM's shipped files set them so), say nothing.
  assert.deepEqual(warnings('[logging]\nlog: /var/log/momd.log\nmax-bytes: 100\nbackup-count: 2\n'), []);
  assert.deepEqual(
    warnings('[main]\nrpc-port: -1\nguest-manager-multi-thread: true\n[logging]\nmax-bytes: 2097152\n'),
    [],
  );
});

test('contrib/momd.conf, the example for the systemd unit, loads without warnings', () => {
  const file = fileURLToPath(new URL('../../../contrib/momd.conf', import.meta.url));
  const { config, warnings } = loadConfig({ file });
  assert.deepEqual(warnings, []);
  assert.equal(config.main.hypervisorInterface, 'libvirt');
  assert.deepEqual(config.main.metricsListen, { host: '127.0.0.1', port: 9177 });
});

test('record-rotate-every: days or hours dividing a day, or empty for by size only', () => {
  assert.equal(load('[main]\nrecord-rotate-every: 7d\n').config.main.recordRotateEvery, '7d');
  assert.equal(load('[main]\nrecord-rotate-every: 6H\n').config.main.recordRotateEvery, '6h');
  assert.equal(load('[main]\nrecord-rotate-every:\n').config.main.recordRotateEvery, null);
  assert.deepEqual(
    problems(() => load('[main]\nrecord-rotate-every: 5h\n')),
    [
      "/etc/mom.conf:2: [main] record-rotate-every: invalid value '5h': expected days (1d, 7d) or hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h), or empty",
    ],
  );
});

test('record-dir, record-max-size and record-max-files: a folder made absolute, a size with a unit, a count', () => {
  const { config } = load('[main]\nrecord-dir: rec\nrecord-max-size: 2M\nrecord-max-files: 3\n');
  assert.equal(config.main.recordDir, '/etc/rec');
  assert.equal(config.main.recordMaxSize, 2 * 1024 * 1024);
  assert.equal(config.main.recordMaxFiles, 3);
  assert.equal(load('[main]\nrecord-max-size: 4096\n').config.main.recordMaxSize, 4096);
  assert.equal(load('[main]\nrecord-max-size: 1g\n').config.main.recordMaxSize, 1024 ** 3);
  assert.deepEqual(
    problems(() => load('[main]\nrecord-max-size: 100\n')),
    [
      "/etc/mom.conf:2: [main] record-max-size: invalid value '100': expected a size of at least 1K: bytes, or a number followed by K, M or G (64M)",
    ],
  );
  assert.match(
    problems(() => load('[main]\nrecord-max-files: 0\n'))[0] ?? '',
    /record-max-files: invalid value '0'/,
  );
});
