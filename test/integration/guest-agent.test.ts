// MOM's GuestQemuAgent collector against the real QEMU guest agent: Debian's qemu-ga, run on this
// host with `-m unix-listen`, stands in for the agent inside a guest (the protocol is the same; the
// files it reads are this host's). Needs qemu-ga (scripts/ensure-system-packages.sh installs it).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { guestAgentAvailable, requireAvailable, skipUnless, which } from './support/skip.js';

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
