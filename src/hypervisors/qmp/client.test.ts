import assert from 'node:assert/strict';
import { linkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HypervisorError } from '../hypervisor.js';
import {
  codeOfQmpError,
  JsonSplitter,
  QmpClient,
  QmpCommandError,
  QmpConnectError,
  type QmpEvent,
} from './client.js';
import { fakeGuest, FakeQmpServer } from '../../../test/support/fake-qmp-server.js';

let dir: string;
let n = 0;
const sock = (): string => path.join(dir, `g${n++}.qmp`);

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'momd-qmp-client-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<HypervisorError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HypervisorError, `expected a HypervisorError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

test('greets, negotiates capabilities first, then answers a command', async () => {
  const fake = await FakeQmpServer.start(sock());
  const c = await QmpClient.connect(fake.path);
  assert.equal(fake.received[0]?.command, 'qmp_capabilities');
  assert.deepEqual(await c.execute('query-name'), { name: 'vm1' });
  assert.ok(c.greeting && 'QMP' in c.greeting);
  await c.close();
  assert.equal(c.closed, true);
  await fake.stop();
});

test('a message split into 7-byte chunks (even inside a UTF-8 character) is reassembled', async () => {
  const fake = await FakeQmpServer.start(sock(), fakeGuest({ name: 'café-☃-guest' }), { chunking: 'split' });
  const c = await QmpClient.connect(fake.path);
  assert.deepEqual(await c.execute('query-name'), { name: 'café-☃-guest' });
  await c.close();
  await fake.stop();
});

test('several replies and events in one chunk, out of order: each reply finds its request by id', async () => {
  const fake = await FakeQmpServer.start(sock(), fakeGuest(), {
    chunking: 'merge',
    reverseBatches: true,
    eventBeforeReplies: true,
  });
  const c = await QmpClient.connect(fake.path);
  const events: QmpEvent[] = [];
  c.onEvent((e) => events.push(e));
  const [name, status, balloon] = await Promise.all([
    c.execute('query-name'),
    c.execute('query-status'),
    c.execute('query-balloon'),
  ]);
  assert.deepEqual(name, { name: 'vm1' });
  assert.deepEqual(status, { status: 'running', running: true, singlestep: false });
  assert.deepEqual(balloon, { actual: 512 * 1024 * 1024 });
  assert.ok(events.length >= 3);
  assert.equal(events[0]?.event, 'BALLOON_CHANGE');
  assert.deepEqual(events[0]?.data, { actual: 512 * 1024 * 1024 });
  assert.equal(typeof events[0]?.timestampS, 'number');
  await c.close();
  await fake.stop();
});

test('an error reply rejects with QmpCommandError carrying a code', async () => {
  const fake = await FakeQmpServer.start(sock());
  const c = await QmpClient.connect(fake.path);
  const notFound = await rejectsWith(c.execute('no-such-command'), 'MOM_E_UNSUPPORTED', /CommandNotFound/);
  assert.ok(notFound instanceof QmpCommandError);
  assert.equal(notFound.errorClass, 'CommandNotFound');
  await rejectsWith(
    c.execute('qom-get', { path: '/machine/peripheral/balloon0', property: 'nope' }),
    'MOM_E_UNSUPPORTED',
    /Property 'virtio-balloon-pci.nope' not found/,
  );
  await rejectsWith(
    c.execute('balloon', { value: -1 }),
    'MOM_E_TRANSPORT',
    /GenericError: Parameter 'value'/,
  );
  // The connection survives errors.
  assert.deepEqual(await c.execute('query-uuid'), { UUID: fake.guest.uuid });
  await c.close();
  await fake.stop();
});

test('codeOfQmpError: what QEMU cannot do is unsupported, the rest is transport', () => {
  assert.equal(codeOfQmpError('CommandNotFound', 'x'), 'MOM_E_UNSUPPORTED');
  assert.equal(
    codeOfQmpError('DeviceNotActive', 'No balloon device has been activated'),
    'MOM_E_UNSUPPORTED',
  );
  assert.equal(codeOfQmpError('DeviceNotFound', "Device '/x' not found"), 'MOM_E_UNSUPPORTED');
  assert.equal(
    codeOfQmpError('GenericError', "Property 'virtio-balloon-pci.x' not found"),
    'MOM_E_UNSUPPORTED',
  );
  assert.equal(codeOfQmpError('GenericError', 'Parameter value expects a size'), 'MOM_E_TRANSPORT');
  assert.equal(codeOfQmpError('SomethingNew', 'x'), 'MOM_E_TRANSPORT');
});

test('no reply in time: timeout, and the late-arriving connection stays usable', async () => {
  const fake = await FakeQmpServer.start(sock());
  fake.behaviour.silent.add('query-balloon');
  const c = await QmpClient.connect(fake.path, { timeoutMs: 100 });
  const t0 = Date.now();
  await rejectsWith(c.execute('query-balloon'), 'MOM_E_TIMEOUT', /query-balloon: no reply within 100 ms/);
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(await c.execute('query-name'), { name: 'vm1' });
  await c.close();
  await fake.stop();
});

test('a server that never greets: connect times out', async () => {
  const fake = await FakeQmpServer.start(sock(), fakeGuest(), { greet: false });
  await rejectsWith(QmpClient.connect(fake.path, { timeoutMs: 100 }), 'MOM_E_TIMEOUT', /no QMP greeting/);
  await fake.stop();
});

test('a socket busy with another client (QEMU serves one) times out on the greeting', async () => {
  const fake = await FakeQmpServer.start(sock());
  const first = await QmpClient.connect(fake.path);
  await rejectsWith(QmpClient.connect(fake.path, { timeoutMs: 100 }), 'MOM_E_TIMEOUT');
  await first.close();
  await fake.stop();
});

test('the server hanging up: pending and later requests fail with guest-gone', async () => {
  const fake = await FakeQmpServer.start(sock());
  fake.behaviour.silent.add('query-balloon');
  const c = await QmpClient.connect(fake.path);
  let closedWith: HypervisorError | null = null;
  c.onClose((r) => (closedWith = r));
  const pending = c.execute('query-balloon');
  setTimeout(() => fake.disconnect(), 20);
  await rejectsWith(pending, 'MOM_E_GUEST_GONE', /connection closed/);
  await rejectsWith(c.execute('query-name'), 'MOM_E_GUEST_GONE');
  assert.equal(c.closed, true);
  assert.equal((closedWith as HypervisorError | null)?.code, 'MOM_E_GUEST_GONE');
  await fake.stop();
});

test('a missing socket and a refused one are guest-gone, with the errno', async () => {
  const missing = await rejectsWith(QmpClient.connect(path.join(dir, 'nothing.qmp')), 'MOM_E_GUEST_GONE');
  assert.ok(missing instanceof QmpConnectError);
  assert.equal(missing.errno, 'ENOENT');
  // A stale socket file (QEMU killed): a hard link to a socket whose server has gone.
  const live = sock();
  const stale = sock();
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(live, () => r()));
  linkSync(live, stale);
  await new Promise<void>((r) => server.close(() => r()));
  const refused = await rejectsWith(QmpClient.connect(stale), 'MOM_E_GUEST_GONE', /ECONNREFUSED/);
  assert.ok(refused instanceof QmpConnectError);
  assert.equal(refused.errno, 'ECONNREFUSED');
});

test('an aborted signal rejects the request with its reason', async () => {
  const fake = await FakeQmpServer.start(sock());
  fake.behaviour.silent.add('query-balloon');
  const c = await QmpClient.connect(fake.path);
  const ac = new AbortController();
  const p = c.execute('query-balloon', undefined, { signal: ac.signal });
  ac.abort(new Error('cycle over'));
  await assert.rejects(p, /cycle over/);
  await assert.rejects(c.execute('query-name', undefined, { signal: ac.signal }), /cycle over/);
  await c.close();
  await fake.stop();
});

test('close() fails pending requests with guest-gone', async () => {
  const fake = await FakeQmpServer.start(sock());
  fake.behaviour.silent.add('query-balloon');
  const c = await QmpClient.connect(fake.path);
  const failed = rejectsWith(c.execute('query-balloon'), 'MOM_E_GUEST_GONE', /closed by momd/);
  await c.close();
  await failed;
  await fake.stop();
});

test('a pretty-printed greeting and reply (monitor pretty=on) are framed by braces, not lines', async () => {
  const p = sock();
  const server = net.createServer((s) => {
    s.write('{\n    "QMP": {\n        "version": {},\n        "capabilities": []\n    }\n}\n');
    s.on('data', (d) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        const req = JSON.parse(line) as { id: string };
        s.write(`{\n    "return": {"text": "a } in \\"a\\" string {"},\n    "id": "${req.id}"\n}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(p, () => r()));
  const c = await QmpClient.connect(p);
  assert.deepEqual(await c.execute('x'), { text: 'a } in "a" string {' });
  await c.close();
  await new Promise<void>((r) => server.close(() => r()));
});

test('garbage on the wire closes the connection with a transport error', async () => {
  const p = sock();
  const server = net.createServer((s) => {
    s.write('{"QMP": {}}\r\n');
    s.on('data', () => s.write('hello\r\n'));
  });
  await new Promise<void>((r) => server.listen(p, () => r()));
  await rejectsWith(QmpClient.connect(p), 'MOM_E_TRANSPORT', /protocol error/);
  await new Promise<void>((r) => server.close(() => r()));
});

test('JsonSplitter: objects across chunks, several per chunk, whitespace between', () => {
  const s = new JsonSplitter();
  assert.deepEqual(s.push('{"a": "x{'), []);
  assert.deepEqual(s.push('\\"}"}\r\n{"b":1}  {"c"'), ['{"a": "x{\\"}"}', '{"b":1}']);
  assert.deepEqual(s.push(': [1, {"d": 2}]}\r\n'), ['{"c": [1, {"d": 2}]}']);
  assert.throws(() => s.push('nope'), /unexpected "n"/);
});

/**
 * A hostile QMP peer: greets and accepts qmp_capabilities like QEMU, then answers every other
 * command with `misbehave(id, socket)`.
 */
async function hostile(
  misbehave: (id: unknown, s: net.Socket) => void,
): Promise<{ path: string; stop(): Promise<void> }> {
  const p = sock();
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
    let buf = '';
    s.on('data', (chunk) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0 || (buf.trim().endsWith('}') && (nl = buf.length) > 0)) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        const msg = JSON.parse(line) as { execute: string; id: unknown };
        if (msg.execute === 'qmp_capabilities') s.write(`${JSON.stringify({ return: {}, id: msg.id })}\r\n`);
        else misbehave(msg.id, s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(p, () => r()));
  return {
    path: p,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
      }),
  };
}

test('hostile peer: a message over 16 MiB is a transport error, not a buffer that grows for ever', async () => {
  const peer = await hostile((_id, s) => {
    const chunk = 'x'.repeat(1024 * 1024);
    s.write('{"return": "');
    for (let i = 0; i < 17; i++) s.write(chunk);
  });
  const c = await QmpClient.connect(peer.path, { timeoutMs: 20_000 });
  await rejectsWith(c.execute('query-balloon'), 'MOM_E_TRANSPORT', /larger than 16 MiB/);
  await c.close();
  await peer.stop();
});

test('hostile peer: 20,000 events before the reply, and replies with unknown ids, do not hide the answer', async () => {
  const peer = await hostile((id, s) => {
    const event =
      '{"event": "BALLOON_CHANGE", "data": {"actual": 1}, "timestamp": {"seconds": 1, "microseconds": 0}}\r\n';
    s.write(event.repeat(20_000));
    s.write('{"return": {"actual": 7}, "id": 987654321}\r\n{"return": {"actual": 8}}\r\n');
    s.write(`${JSON.stringify({ return: { actual: 512 }, id })}\r\n`);
  });
  const c = await QmpClient.connect(peer.path);
  let events = 0;
  c.onEvent(() => events++);
  assert.deepEqual(await c.execute('query-balloon'), { actual: 512 });
  assert.equal(events, 20_000);
  await c.close();
  await peer.stop();
});

test('hostile peer: a reply cut off by a hang-up fails that request with guest-gone', async () => {
  const peer = await hostile((_id, s) => {
    s.write('{"return": {"actual": 5');
    s.end();
  });
  const c = await QmpClient.connect(peer.path);
  await rejectsWith(c.execute('query-balloon'), 'MOM_E_GUEST_GONE');
  await peer.stop();
});
