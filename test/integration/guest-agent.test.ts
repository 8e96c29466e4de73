// MOM's GuestQemuAgent collector against the real QEMU guest agent (Debian's qemu-ga):
// - run on this host with `-m unix-listen`: the protocol, stale data, error replies;
// - inside a real guest without a balloon driver, over virtio-serial (the test image carries
//   qemu-ga and its libraries): the QMP backend reads the guest's memory through it, and the real
//   momd, configured with GuestQemuAgent, shows it in its API;
// - inside a domain of a real libvirtd with an agent channel: the libvirt backend reads it through
//   virsh qemu-agent-command.
// Needs qemu-ga (scripts/ensure-system-packages.sh installs it), and root and QEMU for the guest.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  openSocketChannel,
  readAgentMemory,
  readGuestFile,
} from '../../src/hypervisors/guest-agent/agent.js';
import { HypervisorError } from '../../src/hypervisors/hypervisor.js';
import { createLibvirtBackend } from '../../src/hypervisors/libvirt/index.js';
import { createQmpBackend } from '../../src/hypervisors/qmp/index.js';
import {
  defineAndStartDomain,
  destroyDomain,
  ensureLibvirtd,
  type DomainHandle,
  type LibvirtdHandle,
} from './support/libvirt.js';
import { startMomd } from './support/momd-process.js';
import { startGuest, stopAll, type GuestHandle } from './support/qemu.js';
import {
  guestAgentAvailable,
  libvirtAvailable,
  realGuestsAvailable,
  requireAvailable,
  skipUnless,
  which,
} from './support/skip.js';
import { latestMeminfo, until } from './support/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts qemu-ga on a unix socket in `dir`; resolves once the socket exists. */
async function startAgent(dir: string): Promise<{ socket: string; proc: ChildProcess }> {
  const socket = join(dir, 'vm1.agent');
  const proc = spawn(which('qemu-ga') ?? 'qemu-ga', ['-m', 'unix-listen', '-p', socket, '-t', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100 && !existsSync(socket); i++) {
    if (proc.exitCode !== null) throw new Error(`qemu-ga exited ${proc.exitCode}: ${stderr}`);
    await sleep(50);
  }
  if (!existsSync(socket)) throw new Error(`qemu-ga made no socket in 5 s: ${stderr}`);
  return { socket, proc };
}

const hostMeminfo = (key: string): number => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  assert.ok(m, key);
  return Number(m[1]);
};

describe('the real qemu-ga', { skip: skipUnless(guestAgentAvailable()) }, () => {
  let dir: string;
  let agent: { socket: string; proc: ChildProcess };

  before(async () => {
    requireAvailable(guestAgentAvailable());
    dir = mkdtempSync(join(tmpdir(), 'momd-qga-'));
    agent = await startAgent(dir);
  });
  after(() => {
    agent?.proc.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('GuestMemory fields from its /proc: what the kernel says', async () => {
    const ch = await openSocketChannel(agent.socket, { timeoutMs: 5000 });
    try {
      const r = await readAgentMemory(ch, 'vm1');
      assert.equal(r.mem_available, hostMeminfo('MemTotal'));
      assert.equal(r.swap_total, hostMeminfo('SwapTotal'));
      const free = hostMeminfo('MemFree');
      assert.ok(
        r.mem_unused !== null && r.mem_unused !== undefined && Math.abs(r.mem_unused - free) < 256 * 1024,
      );
      assert.ok((r.minor_fault ?? 0) > 0 && (r.major_fault ?? -1) >= 0, JSON.stringify(r));
      assert.equal(r.stats_age_s, 0);
    } finally {
      ch.close();
    }
  });

  test('a client that left without reading does not confuse the next one', async () => {
    const raw = createConnection({ path: agent.socket });
    await new Promise<void>((r) => raw.once('connect', () => r()));
    raw.write('{"execute":"guest-info"}\n{"execute":"guest-ping"}\n');
    await sleep(200);
    raw.destroy();
    const ch = await openSocketChannel(agent.socket, { timeoutMs: 5000 });
    try {
      assert.match(await readGuestFile(ch, '/proc/vmstat'), /^nr_free_pages \d+$/m);
    } finally {
      ch.close();
    }
  });

  test("a file the guest does not have: the agent's own message", async () => {
    const ch = await openSocketChannel(agent.socket, { timeoutMs: 5000 });
    try {
      await assert.rejects(
        readGuestFile(ch, '/proc/no-such-file'),
        (err: unknown) =>
          err instanceof HypervisorError &&
          err.code === 'MOM_E_TRANSPORT' &&
          /guest-file-open: the agent says: .*no-such-file/.test(err.message),
      );
      // The channel still works after an error reply.
      assert.match(await readGuestFile(ch, '/proc/meminfo'), /^MemTotal:/);
    } finally {
      ch.close();
    }
  });
});

/** GET a path of momd's API on its unix socket, as JSON. */
function getJson(socketPath: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const bothAvailable = ((): ReturnType<typeof realGuestsAvailable> => {
  const g = realGuestsAvailable();
  return g.ok ? guestAgentAvailable() : g;
})();

describe('qemu-ga inside a real guest without a balloon driver', { skip: skipUnless(bothAvailable) }, () => {
  let dir = '';
  let guest: GuestHandle | undefined;

  before(async () => {
    requireAvailable(bothAvailable);
    dir = mkdtempSync(join(tmpdir(), 'momd-qga-guest-'));
    const agentSocket = join(dir, 'agentvm.agent');
    guest = await startGuest({
      name: 'agentvm',
      memoryMiB: 256,
      balloon: true,
      balloonDriver: false,
      qmpSockets: 2,
      dir,
      kernelArgs: ['momagent=1'],
      qemuArgs: [
        '-device',
        'virtio-serial-pci,id=vser0',
        '-chardev',
        `socket,id=qga0,path=${agentSocket},server=on,wait=off`,
        '-device',
        'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
      ],
    });
    await guest.waitForReady(90_000);
    // The whole READY line (waitForReady may see the marker before the rest of its line is out).
    const [line] = await guest.waitForSerial(/MOMD-GUEST-READY [^\n]*agent=\d/, 10_000);
    assert.match(line, /balloon_driver=0 .*agent=1/, `the guest runs qemu-ga: ${line}`);
  });
  after(async () => {
    if (guest) await stopAll([guest]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the QMP backend: no balloon statistics, and the agent gives what the guest itself sees', async () => {
    const backend = createQmpBackend({
      socketGlob: join(dir, '*.qmp0.sock'),
      agentSocket: { socketPath: dir, socketNameTemplate: '%(name)s.agent' },
    });
    try {
      const [g] = await backend.listGuests();
      assert.ok(g && g.name === 'agentvm');
      const balloon = (await backend.guestStats([g.id])).get(g.id);
      assert.ok(balloon && !(balloon instanceof HypervisorError));
      assert.equal(balloon.mem_available ?? null, null, 'no driver: no balloon statistics');
      assert.ok(backend.capabilities.has('guest-agent') && backend.guestAgentStats);
      const viaAgent = (await backend.guestAgentStats([g.id])).get(g.id);
      assert.ok(viaAgent && !(viaAgent instanceof HypervisorError), String(viaAgent));
      const own = latestMeminfo(guest?.serial() ?? '');
      assert.ok(own, "the guest's own meminfo line");
      assert.equal(viaAgent.mem_available, own.totalKiB, "MemTotal as the guest's init prints it");
      assert.ok(
        viaAgent.mem_available !== null &&
          viaAgent.mem_available !== undefined &&
          viaAgent.mem_available < 256 * 1024,
      );
      assert.ok(
        Math.abs((viaAgent.mem_unused ?? 0) - own.freeKiB) < 16 * 1024,
        `${viaAgent.mem_unused} vs ${own.freeKiB}`,
      );
      assert.ok((viaAgent.minor_fault ?? 0) > 0);
    } finally {
      await backend.close();
    }
  });

  test("the real momd with GuestQemuAgent: the guest's memory fields come from its agent", async () => {
    const conf = join(dir, 'mom.conf');
    const api = join(dir, 'api.sock');
    writeFileSync(
      conf,
      [
        '[main]',
        'hypervisor-interface: qmp',
        `qmp-socket-glob: ${join(dir, '*.qmp0.sock')}`,
        `api-socket: ${api}`,
        `contention-pause-record: ${join(dir, 'paused.json')}`,
        'guest-monitor-interval: 1',
        '[guest]',
        'collectors: GuestQemuProc, GuestMemory, GuestBalloon, GuestQemuAgent',
        '[Collector: GuestQemuAgent]',
        `socket_path: ${dir}`,
        'socket_name_template: %(name)s.agent',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'none.policy'), '(defvar nothing 0)\n');
    const momd = startMomd(['-c', conf, '--policy', join(dir, 'none.policy')]);
    try {
      const latest = await until("agentvm with mem_available in momd's API", 60_000, async () => {
        if (!existsSync(api)) return undefined;
        const g = (await getJson(api, '/v1/guests/agentvm').catch(() => undefined)) as
          { latest?: Record<string, unknown> | null } | undefined;
        const m = g?.latest?.['mem_available'];
        return typeof m === 'number' ? g?.latest : undefined;
      });
      const own = latestMeminfo(guest?.serial() ?? '');
      assert.equal(latest?.['mem_available'], own?.totalKiB);
      assert.equal(typeof latest?.['mem_unused'], 'number');
      assert.ok(
        !momd.log.some((l) => String(l['msg'] ?? '').includes('guest agent cannot be read')),
        'no agent trouble said',
      );
    } finally {
      await momd.stop();
    }
  });
});

const withLibvirt = ((): ReturnType<typeof realGuestsAvailable> => {
  const g = bothAvailable;
  return g.ok ? libvirtAvailable() : g;
})();

describe('qemu-ga inside a domain of a real libvirtd', { skip: skipUnless(withLibvirt) }, () => {
  let dir = '';
  let daemons: LibvirtdHandle | undefined;
  let domain: DomainHandle | undefined;
  const name = `momqga${process.pid}`;

  before(async () => {
    requireAvailable(withLibvirt);
    daemons = await ensureLibvirtd();
    dir = mkdtempSync(join(tmpdir(), 'momd-qga-libvirt-'));
    chmodSync(dir, 0o755);
    domain = await defineAndStartDomain({
      name,
      memoryMiB: 256,
      balloon: true,
      balloonDriver: false,
      agent: true,
      dir,
    });
    await domain.waitForReady(90_000);
    // The whole READY line (waitForReady may see the marker before the rest of its line is out).
    const [line] = await domain.waitForSerial(/MOMD-GUEST-READY [^\n]*agent=\d/, 10_000);
    assert.match(line, /balloon_driver=0 .*agent=1/, `the guest runs qemu-ga: ${line}`);
  });
  after(async () => {
    await destroyDomain(name).catch(() => false);
    await daemons?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the libvirt backend reads the guest's memory through virsh qemu-agent-command", async () => {
    const backend = createLibvirtBackend({});
    try {
      const g = (await backend.listGuests()).find((x) => x.name === name);
      assert.ok(g, `${name} is listed`);
      assert.ok(backend.guestAgentStats);
      // libvirt answers "agent not connected" until qemu-ga has opened its port: retry a while.
      const r = await until('the agent through libvirt', 30_000, async () => {
        const got = (await backend.guestAgentStats?.([g.id]))?.get(g.id);
        return got instanceof HypervisorError ? undefined : got;
      });
      const own = latestMeminfo(domain?.serial() ?? '');
      assert.ok(own, "the guest's own meminfo line");
      assert.equal(r.mem_available, own.totalKiB);
      assert.ok(Math.abs((r.mem_unused ?? 0) - own.freeKiB) < 16 * 1024, `${r.mem_unused} vs ${own.freeKiB}`);
    } finally {
      await backend.close();
    }
  });
});
