// The agent protocol against fake agents (a unix socket server in the test): the handshake, stale
// data, error replies, silence, a peer that hangs up. The real qemu-ga is in
// test/integration/guest-agent.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HypervisorError } from '../hypervisor.js';
import {
  agentSocketPath,
  openSocketChannel,
  readAgentMemory,
  readGuestFile,
  virshChannel,
  type AgentChannel,
} from './agent.js';

const dir = mkdtempSync(join(tmpdir(), 'momd-qga-'));
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));
let n = 0;

type Handler = (msg: { execute: string; arguments?: Record<string, unknown> }, sock: Socket) => void;

/** A fake agent: `handle` answers each JSON line. */
async function fakeAgent(handle: Handler, onConnect?: (sock: Socket) => void): Promise<string> {
  const path = join(dir, `a${n++}.sock`);
  const server = createServer((sock) => {
    onConnect?.(sock);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        handle(JSON.parse(line) as Parameters<Handler>[0], sock);
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

/** An agent that serves files from a map, as qemu-ga does (base64 chunks of at most `count`). */
function fileAgent(files: Record<string, string>, chunk = 7): Handler {
  const open = new Map<number, { data: Buffer; pos: number }>();
  let next = 1000;
  return (msg, sock) => {
    const reply = (v: unknown): boolean => sock.write(`${JSON.stringify({ return: v })}\n`);
    const a = msg.arguments ?? {};
    switch (msg.execute) {
      case 'guest-sync-delimited':
        sock.write(
          Buffer.concat([Buffer.from([0xff]), Buffer.from(`${JSON.stringify({ return: a['id'] })}\n`)]),
        );
        return;
      case 'guest-file-open': {
        const text = files[a['path'] as string];
        if (text === undefined) {
          sock.write(
            `${JSON.stringify({ error: { class: 'GenericError', desc: `failed to open file '${String(a['path'])}'` } })}\n`,
          );
          return;
        }
        open.set(next, { data: Buffer.from(text), pos: 0 });
        reply(next++);
        return;
      }
      case 'guest-file-read': {
        const f = open.get(a['handle'] as number);
        if (f === undefined) return;
        const count = Math.min(chunk, a['count'] as number);
        const part = f.data.subarray(f.pos, f.pos + count);
        f.pos += part.length;
        reply({ count: part.length, 'buf-b64': part.toString('base64'), eof: f.pos >= f.data.length });
        return;
      }
      case 'guest-file-close':
        open.delete(a['handle'] as number);
        reply({});
        return;
    }
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HypervisorError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, text);
    return true;
  });
}

test('reads a whole file in chunks and closes its handle', async () => {
  const closed: number[] = [];
  const files = fileAgent({ '/proc/meminfo': 'MemTotal: 1000 kB\nMemFree: 10 kB\n' });
  const path = await fakeAgent((msg, sock) => {
    if (msg.execute === 'guest-file-close') closed.push(msg.arguments?.['handle'] as number);
    files(msg, sock);
  });
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    assert.equal(await readGuestFile(ch, '/proc/meminfo'), 'MemTotal: 1000 kB\nMemFree: 10 kB\n');
    assert.deepEqual(closed, [1000]);
  } finally {
    ch.close();
  }
});

test('the handshake skips what an earlier client left unread', async () => {
  const files = fileAgent({ '/x': 'hello' });
  const path = await fakeAgent(files, (sock) => {
    // A reply nobody read, then half of another, before our sync.
    sock.write('{"return": 1}\n{"return": {"count"');
  });
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    assert.equal(await readGuestFile(ch, '/x'), 'hello');
  } finally {
    ch.close();
  }
});

test("the agent's error names the command and says what the agent said", async () => {
  const path = await fakeAgent(fileAgent({}));
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    await rejectsWith(
      readGuestFile(ch, '/proc/nope'),
      'MOM_E_TRANSPORT',
      /guest-file-open: the agent says: failed to open file '\/proc\/nope'/,
    );
  } finally {
    ch.close();
  }
});

test('no socket: MOM_E_TRANSPORT naming the path', async () => {
  await rejectsWith(
    openSocketChannel(join(dir, 'missing.sock'), { timeoutMs: 2000 }),
    'MOM_E_TRANSPORT',
    /missing\.sock: ENOENT/,
  );
});

test('an agent that never answers: MOM_E_TIMEOUT within the timeout', async () => {
  const path = await fakeAgent(() => undefined);
  const t0 = Date.now();
  await rejectsWith(
    openSocketChannel(path, { timeoutMs: 300 }),
    'MOM_E_TIMEOUT',
    /no reply to guest-sync-delimited in 300 ms/,
  );
  assert.ok(Date.now() - t0 < 2000);
});

test('an agent that hangs up mid-reply: MOM_E_TRANSPORT, not a hang', async () => {
  const files = fileAgent({ '/x': 'hello' });
  const path = await fakeAgent((msg, sock) => {
    if (msg.execute === 'guest-file-read') sock.end('{"return": {"count": 5, "buf');
    else files(msg, sock);
  });
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    await rejectsWith(readGuestFile(ch, '/x'), 'MOM_E_TRANSPORT', /the connection closed/);
  } finally {
    ch.close();
  }
});

test('a reply that is not JSON, and one that is not an agent reply', async () => {
  const files = fileAgent({ '/x': 'hello' });
  const path = await fakeAgent((msg, sock) => {
    if (msg.execute === 'guest-file-open') sock.write('<html>\n');
    else files(msg, sock);
  });
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    await rejectsWith(
      readGuestFile(ch, '/x'),
      'MOM_E_TRANSPORT',
      /guest-file-open: a reply that is not JSON/,
    );
  } finally {
    ch.close();
  }
});

test('an aborted signal ends the wait', async () => {
  const path = await fakeAgent(() => undefined);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new HypervisorError('MOM_E_TIMEOUT', 'task deadline')), 50);
  await rejectsWith(
    openSocketChannel(path, { timeoutMs: 5000, signal: ac.signal }),
    'MOM_E_TIMEOUT',
    /task deadline/,
  );
});

test('through virsh: one qemu-agent-command per command, the reply parsed', async () => {
  const calls: string[][] = [];
  const files = new Map<string, unknown>([
    ['guest-file-open', 7],
    ['guest-file-read', { count: 2, 'buf-b64': Buffer.from('hi').toString('base64'), eof: true }],
    ['guest-file-close', {}],
  ]);
  const ch: AgentChannel = virshChannel(
    async (args) => {
      calls.push(args);
      const msg = JSON.parse(args[4] ?? '{}') as { execute: string };
      return `${JSON.stringify({ return: files.get(msg.execute) })}\n`;
    },
    'vm1',
    5,
  );
  assert.equal(await readGuestFile(ch, '/proc/meminfo'), 'hi');
  assert.deepEqual(
    calls.map((a) => a.slice(0, 4)),
    Array(3).fill(['qemu-agent-command', 'vm1', '--timeout', '5']),
  );
  assert.deepEqual(JSON.parse(calls[0]?.[4] ?? ''), {
    execute: 'guest-file-open',
    arguments: { path: '/proc/meminfo', mode: 'r' },
  });
});

test("MOM's socket settings: %(name)s is the guest's name", () => {
  const settings = { socketPath: '/var/lib/libvirt/qemu/', socketNameTemplate: '%(name)s.agent' };
  assert.equal(agentSocketPath(settings, { name: 'vm1', uuid: 'u-1' }), '/var/lib/libvirt/qemu/vm1.agent');
  assert.equal(
    agentSocketPath(
      { socketPath: '/run/qga', socketNameTemplate: 'qga-%(uuid)s.sock' },
      { name: 'vm1', uuid: 'u-1' },
    ),
    '/run/qga/qga-u-1.sock',
  );
});

test("files that do not parse: MOM_E_TRANSPORT naming the guest's file and line", async () => {
  const path = await fakeAgent(
    fileAgent({ '/proc/meminfo': 'MemTotal: lots\n', '/proc/vmstat': 'pgfault 1\n' }),
  );
  const ch = await openSocketChannel(path, { timeoutMs: 2000 });
  try {
    await rejectsWith(readAgentMemory(ch, 'vm1'), 'MOM_E_TRANSPORT', /vm1:\/proc\/meminfo/);
  } finally {
    ch.close();
  }
});
