// The configuration oVirt's vdsm writes for MOM (test/fixtures/vdsm/mom.conf, in its shape) loads
// with one warning per thing momd does differently; MOM's [Collector: NAME] and [vdsm] sections
// are read as MOM reads them; GuestNetworkDaemon is refused with the reason.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './index.js';

const VDSM_CONF = join(
  fileURLToPath(new URL('../../../', import.meta.url)),
  'test',
  'fixtures',
  'vdsm',
  'mom.conf',
);

/**
 * Another engineer is making CpuTune, IoTune and the Guest*Tune collectors real: whatever the
 * configuration says of them is checked on its own, so this test holds before and after.
 */
const TUNING = /'(CpuTune|IoTune|GuestCpuTune|GuestIoTune|GuestIoTuneOptional)'/;

const load = (text: string) => loadConfig({ file: '/etc/mom.conf', text });

test("vdsm's mom.conf loads: libvirt for its vdsm interface, and exactly these warnings", () => {
  const { config, warnings } = loadConfig({ file: VDSM_CONF });
  const at = (line: number, text: string): string => `${VDSM_CONF}:${line}: ${text}`;
  assert.deepEqual(
    warnings.filter((w) => !TUNING.test(w)),
    [
      at(
        13,
        "[main] hypervisor-interface: 'vdsmjsonrpcbulk' is MOM's way through vdsm's API; momd reads the same guests from libvirt on this host (libvirt-hypervisor-uri), so it is read as 'libvirt'",
      ),
      at(
        32,
        "[vdsm] (pki-dir, key-file, cert-file, ca-cert-file, host, port, request-timeout): how MOM reaches vdsm's API; momd reads the guests from libvirt instead, ignored",
      ),
      at(52, "[guest] collectors: 'GuestMemoryOptional' is read as 'GuestMemory'"),
      at(52, "[guest] collectors: 'GuestBalloonOptional' is read as 'GuestBalloon'"),
      at(
        58,
        "[Collector: GuestQemuAgent] socket_path: not read (with hypervisor-interface libvirt momd reaches each guest's agent through libvirt (virsh qemu-agent-command), which holds its socket), ignored",
      ),
      at(
        60,
        "[Collector: GuestQemuAgent] port: unknown key, ignored (GuestQemuAgent's keys in MOM: socket_path, socket_name_template)",
      ),
    ],
  );
  // The tuning names: on the lines that list them, whatever momd makes of them.
  for (const w of warnings.filter((x) => TUNING.test(x)))
    assert.match(w, new RegExp(`^${VDSM_CONF}:(18: \\[main\\] controllers|52: \\[guest\\] collectors): `));

  const m = config.main;
  assert.equal(m.hypervisorInterface, 'libvirt');
  assert.equal(m.libvirtHypervisorUri, 'qemu:///system');
  assert.deepEqual(
    [m.mainLoopInterval, m.hostMonitorInterval, m.guestMonitorInterval, m.guestManagerInterval],
    [15, 15, 15, 15],
  );
  assert.equal(m.policyEngineInterval, 15);
  assert.deepEqual(m.rpcPort, { kind: 'unix', path: '/var/run/vdsm/mom-vdsm.sock' });
  assert.equal(m.policyDir, '/etc/vdsm/mom.d');
  assert.equal(m.plotDir, null);
  assert.deepEqual(m.controllers.slice(0, 2), ['Balloon', 'KSM']);
  assert.deepEqual(config.logging, {
    log: '/var/log/vdsm/mom.log',
    verbosity: 'info',
    maxBytes: 2097152,
    backupCount: 5,
  });
  assert.deepEqual(config.host.collectors, ['HostMemory', 'HostCpu', 'HostKSM']);
  assert.deepEqual(config.guest.collectors.slice(0, 2), ['GuestMemory', 'GuestBalloon']);
});

test('every vdsm interface of MOM is read as libvirt with one warning; others are refused', () => {
  for (const name of [
    'vdsm',
    'vdsmxmlrpc',
    'vdsmxmlrpcbulk',
    'vdsmjsonrpc',
    'vdsmjsonrpcbulk',
    'vdsmjsonrpcclient',
    'VDSM',
  ]) {
    const { config, warnings } = load(`[main]\nhypervisor-interface: ${name}\n`);
    assert.equal(config.main.hypervisorInterface, 'libvirt', name);
    assert.equal(warnings.length, 1, name);
    assert.match(warnings[0] ?? '', /^\/etc\/mom\.conf:2: \[main\] hypervisor-interface: '.+' is MOM's way/);
  }
  // libvirt's own URI goes with it, and says nothing.
  const { config, warnings } = load(
    '[main]\nhypervisor-interface: vdsm\nlibvirt-hypervisor-uri: qemu+tcp://node/system\n',
  );
  assert.equal(config.main.libvirtHypervisorUri, 'qemu+tcp://node/system');
  assert.equal(warnings.length, 1);
  assert.throws(() => load('[main]\nhypervisor-interface: vdsmrest\n'), ConfigError);
});

test("[Collector: NAME]: keys at MOM's default say nothing, others warn; an unknown collector warns once", () => {
  const text = [
    '[Collector: GuestQemuAgent]', // 1
    'socket_path: /var/lib/libvirt/qemu',
    'socket_name_template: %(name)s.agent',
    '[Collector: HostMemory]', // 4
    'interval: 3',
    '[Collector: GuestNetworkDaemon]', // 6
    'name-to-ip-helper: /usr/libexec/mom/name-to-ip',
    '[Collector: GuestTurbo]', // 8
    'speed: 11',
    '[Collector:HostKSM]', // 10
    '[vdsm]', // 11
  ].join('\n');
  assert.deepEqual(load(text).warnings, [
    '/etc/mom.conf:5: [Collector: HostMemory] interval: unknown key, ignored (HostMemory takes no settings)',
    '/etc/mom.conf:7: [Collector: GuestNetworkDaemon] name-to-ip-helper: not read (momd refuses GuestNetworkDaemon), ignored',
    "/etc/mom.conf:8: unknown section [Collector: GuestTurbo], ignored (no collector 'GuestTurbo')",
  ]);
});

test('GuestNetworkDaemon is refused, saying why; GuestQemuAgent is read, and its socket keys with qmp', () => {
  assert.throws(
    () => load('[guest]\ncollectors: GuestMemory, GuestNetworkDaemon\n'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 1);
      assert.match(
        e.problems[0] ?? '',
        /^\/etc\/mom\.conf:2: \[guest\] collectors: invalid value 'GuestMemory, GuestNetworkDaemon': guest collector 'GuestNetworkDaemon' is refused: it asks a plain-TCP daemon inside each guest .*no authentication.*security hole/,
      );
      return true;
    },
  );
  const { config, warnings } = load('[guest]\ncollectors: GuestMemory, GuestQemuAgent\n');
  assert.deepEqual(config.guest.collectors, ['GuestMemory', 'GuestQemuAgent']);
  assert.deepEqual(config.guest.agentSocket, {
    socketPath: '/var/lib/libvirt/qemu',
    socketNameTemplate: '%(name)s.agent',
  });
  assert.deepEqual(warnings, []);
  // With qmp the socket keys are read, silently; with libvirt a changed one is said not to apply.
  const section = '[Collector: GuestQemuAgent]\nsocket_path: /run/qga\nsocket_name_template: %(uuid)s.sock\n';
  const qmp = load(`[main]\nhypervisor-interface: qmp\nqmp-socket-glob: /run/q/*.qmp\n${section}`);
  assert.deepEqual(qmp.config.guest.agentSocket, {
    socketPath: '/run/qga',
    socketNameTemplate: '%(uuid)s.sock',
  });
  assert.deepEqual(qmp.warnings, []);
  const libvirt = load(`[main]\nhypervisor-interface: libvirt\n${section}`);
  assert.equal(libvirt.warnings.length, 2);
  assert.match(
    libvirt.warnings[0] ?? '',
    /^\/etc\/mom\.conf:4: \[Collector: GuestQemuAgent\] socket_path: not read \(with hypervisor-interface libvirt/,
  );
  // A refused name is not offered among the expected ones.
  assert.throws(
    () => load('[guest]\ncollectors: Nope\n'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.doesNotMatch(e.message, /expected one of [^)]*GuestNetworkDaemon/);
      return true;
    },
  );
});

test('HostCpu and HostTime are collectors; HostMemory brings HostCpu along, once', () => {
  const c = (list: string): string[] => load(`[host]\ncollectors: ${list}\n`).config.host.collectors;
  assert.deepEqual(c('HostTime, HostCpu'), ['HostTime', 'HostCpu']);
  assert.deepEqual(c('HostMemory'), ['HostMemory', 'HostCpu']);
  assert.deepEqual(c('HostCpu, HostMemory, HostTime'), ['HostCpu', 'HostMemory', 'HostTime']);
  assert.deepEqual(c('HostKSM'), ['HostKSM']);
  assert.deepEqual(load('[host]\ncollectors: HostMemory, HostTime\n').warnings, []);
});
