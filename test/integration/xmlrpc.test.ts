// MOM's XML-RPC against the real daemon: bin/momd.js on the simulated host with rpc-port set to a
// unix socket, driven by Python's xmlrpc.client the way oVirt's vdsm drives MOM (a ServerProxy
// whose Transport connects an AF_UNIX socket); and once with rpc-port set to a TCP port, which
// must be bound to 127.0.0.1 only. Needs python3 (a failure says so when it is missing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeResponse } from '../../src/rpc/encode.js';
import { writeSimulatedMomConf } from './support/momd-conf.js';
import { startMomd, type MomdProcess } from './support/momd-process.js';

/** vdsm's way to reach MOM: xmlrpc.client over a unix socket. `mom` is the proxy; the snippet fills `out`. */
const PREAMBLE = `
import http.client, json, socket, sys, xmlrpc.client

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost')
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)

class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path
    def make_connection(self, host):
        return UnixHTTPConnection(self.unix_path)

where = sys.argv[1]
if where.startswith('http://'):
    mom = xmlrpc.client.ServerProxy(where + '/RPC2')
else:
    mom = xmlrpc.client.ServerProxy('http://localhost', transport=UnixTransport(where))

def fault(call, *args):
    try:
        call(*args)
    except xmlrpc.client.Fault as f:
        return {'code': f.faultCode, 'string': f.faultString}
    return None

out = {}
`;

function python(where: string, snippet: string): Record<string, unknown> {
  const r = spawnSync('python3', ['-c', `${PREAMBLE}\n${snippet}\nprint(json.dumps(out))`, where], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.ok(r.error === undefined, `python3 is needed for this test: ${r.error?.message}`);
  assert.equal(r.status, 0, `python3 failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

/** momd on the simulated host with these [main] lines. */
function startSimulated(dir: string, main: string[]): MomdProcess {
  return startMomd(['-c', writeSimulatedMomConf(dir, main)]);
}

function postRaw(socketPath: string, body: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      { socketPath, path: '/RPC2', method: 'POST', headers: { 'content-type': 'text/xml' } },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // momd may answer 413 and close before the whole body is sent: writing then fails, and only
    // a failure with no answer at all counts.
    req.on('error', (err) => setTimeout(() => (answered ? undefined : reject(err)), 500));
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.end(body);
  });
}

describe("MOM's XML-RPC on a unix socket, through Python's xmlrpc.client", () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-xmlrpc-'));
  const socket = join(dir, 'run', 'mom-vdsm.sock');
  const policies = join(dir, 'policies');
  let momd: MomdProcess;

  before(async () => {
    spawnSync('mkdir', ['-p', policies]);
    writeFileSync(join(policies, '01-base.policy'), '(Host.Control "ksm_pages_to_scan" 111)\n');
    writeFileSync(join(policies, '02-ksm.policy'), '(defvar ksm_extra 1)\n');
    momd = startSimulated(dir, [`policy-dir: ${policies}`, `rpc-port: ${socket}`]);
    await momd.waitFor('the XML-RPC server', (l) => l['rpc'] === socket);
    await momd.waitFor('four guests', (l) => l['cycle'] === true && l['guests'] === 4);
  });
  after(async () => {
    assert.equal(await momd.stop(), 0);
  });

  test('the socket is 0600; ping, the active guests and their statistics', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    const out = python(
      socket,
      `
out['ping'] = mom.ping()
out['guests'] = sorted(mom.getActiveGuests())
stats = mom.getStatistics()
out['stat_guests'] = sorted(stats['guests'].keys())
out['host_mem_available'] = stats['host'].get('mem_available')
out['web_balloon_cur'] = stats['guests']['web'].get('balloon_cur')
out['methods'] = mom.system.listMethods()
out['signature'] = mom.system.methodSignature('setNamedPolicy')
`,
    );
    assert.equal(out['ping'], true);
    assert.deepEqual(out['guests'], ['batch', 'build', 'idle', 'web']);
    assert.deepEqual(out['stat_guests'], out['guests']);
    assert.ok(typeof out['host_mem_available'] === 'number' && out['host_mem_available'] > 0);
    assert.ok(typeof out['web_balloon_cur'] === 'number' && out['web_balloon_cur'] > 0);
    for (const m of ['ping', 'setPolicy', 'setNamedPolicy', 'getPolicy', 'getNamedPolicies', 'resetPolicies'])
      assert.ok((out['methods'] as string[]).includes(m), m);
    for (const m of ['setVerbosity', 'getStatistics', 'getActiveGuests', 'system.methodHelp'])
      assert.ok((out['methods'] as string[]).includes(m), m);
    assert.deepEqual(out['signature'], [['boolean', 'string', 'string']]);
  });

  test('named policies: a good one is in force, a bad one is a Fault and the set is unchanged', async () => {
    const from = momd.log.length;
    const out = python(
      socket,
      `
out['before'] = mom.getNamedPolicies()
out['set'] = mom.setNamedPolicy('03-extra', '(Host.Control "ksm_pages_to_scan" 333)\\n')
out['after_good'] = mom.getNamedPolicies()
out['policy'] = mom.getPolicy()
out['bad'] = fault(mom.setNamedPolicy, '02-ksm', '(defvar x 1)\\n(+ x @)\\n')
out['after_bad'] = mom.getNamedPolicies()
out['escape'] = fault(mom.setNamedPolicy, '../../etc/x', '(defvar x 1)')
out['absolute'] = fault(mom.setNamedPolicy, '/etc/x', '(defvar x 1)')
out['nul'] = fault(mom.setNamedPolicy, 'a\\x00b', '(defvar x 1)')
`,
    );
    assert.deepEqual(out['before'], {
      '01-base': '(Host.Control "ksm_pages_to_scan" 111)\n',
      '02-ksm': '(defvar ksm_extra 1)\n',
    });
    assert.equal(out['set'], true);
    assert.deepEqual(Object.keys(out['after_good'] as object), ['01-base', '02-ksm', '03-extra']);
    assert.match(String(out['policy']), /111\)\n[\s\S]*ksm_extra[\s\S]*333\)/);
    const bad = out['bad'] as { code: number; string: string };
    assert.equal(bad.code, 1);
    assert.match(bad.string, /02-ksm\.policy:2:\d+: error/);
    assert.deepEqual(out['after_bad'], out['after_good']);
    for (const k of ['escape', 'absolute', 'nul']) {
      const f = out[k] as { code: number; string: string } | null;
      assert.equal(f?.code, -32602, k);
    }
    assert.match((out['escape'] as { string: string }).string, /slash/);
    // The named policy is the one in force: the engine sets what it asks for.
    await momd.waitFor(
      '333 applied',
      (l) => l['control'] === 'ksm_pages_to_scan' && l['new'] === 333,
      20_000,
      from,
    );
  });

  test('an empty text removes a named policy; setPolicy replaces the set; resetPolicies goes back to the files', async () => {
    const out = python(
      socket,
      `
mom.setNamedPolicy('03-extra', '(defvar y 2)\\n')
out['removed'] = mom.setNamedPolicy('03-extra', '')
out['after_remove'] = sorted(mom.getNamedPolicies().keys())
out['set'] = mom.setPolicy('(Host.Control "ksm_pages_to_scan" 444)\\n')
out['after_set'] = mom.getPolicy()
out['reset'] = mom.resetPolicies()
out['after_reset'] = sorted(mom.getNamedPolicies().keys())
out['verbosity'] = mom.setVerbosity('debug')
out['bad_verbosity'] = fault(mom.setVerbosity, 'chatty')
`,
    );
    assert.equal(out['removed'], true);
    assert.deepEqual(out['after_remove'], ['01-base', '02-ksm']);
    assert.equal(out['set'], true);
    assert.equal(out['after_set'], '(Host.Control "ksm_pages_to_scan" 444)\n');
    assert.equal(out['reset'], true);
    assert.deepEqual(out['after_reset'], ['01-base', '02-ksm']);
    assert.equal(out['verbosity'], true);
    assert.equal((out['bad_verbosity'] as { code: number }).code, -32602);
    await momd.waitFor(
      'verbosity debug',
      (l) => l['verbosity'] === 'debug' && l['msg'] === 'verbosity set to debug',
    );
  });

  test('malformed XML is a Fault naming the problem; a body over 1 MiB is 413', async () => {
    const r = await postRaw(socket, '<methodCall><methodName>ping</methodName><params></methodCall>');
    assert.equal(r.status, 200);
    assert.match(r.body, /<fault>[\s\S]*-32700[\s\S]*malformed XML at line 1/);
    // curl reads an answer that comes while it is still sending (Node's client may lose it to EPIPE).
    const bigFile = join(dir, 'big.xml');
    writeFileSync(bigFile, Buffer.alloc(2 * 1024 * 1024, 0x20));
    const big = spawnSync(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--unix-socket',
        socket,
        '--data-binary',
        `@${bigFile}`,
        'http://localhost/RPC2',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(big.stdout, '413', big.stderr);
    // Still answering.
    assert.equal(python(socket, "out['ping'] = mom.ping()")['ping'], true);
  });
});

test("Python's xmlrpc.client reads momd's <i8> as int, large and negative", () => {
  const body = encodeResponse({ mem_available: 2 ** 41, low: -(2 ** 40), small: 7, frac: 0.5 });
  assert.match(body, /<i8>2199023255552<\/i8>/);
  const r = spawnSync(
    'python3',
    ['-c', 'import sys, json, xmlrpc.client; print(json.dumps(xmlrpc.client.loads(sys.stdin.read())[0][0]))'],
    { input: body, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { mem_available: 2 ** 41, low: -(2 ** 40), small: 7, frac: 0.5 });
});

describe("MOM's XML-RPC on a TCP port", () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-xmlrpc-tcp-'));
  let momd: MomdProcess;
  let url = '';

  before(async () => {
    // 0: the system chooses a free port; momd logs the one it got.
    momd = startSimulated(dir, ['rpc-port: 0']);
    const line = await momd.waitFor('the XML-RPC server', (l) => typeof l['rpc'] === 'string');
    url = String(line['rpc']);
  });
  after(async () => {
    assert.equal(await momd.stop(), 0);
  });

  test('it listens on 127.0.0.1 only, and Python reaches it there', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    // /proc/net/tcp: the listening socket (state 0A) on this port has the local address 127.0.0.1.
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && parseInt(f[1]?.split(':')[1] ?? '', 16) === port)
      .map((f) => f[1]?.split(':')[0]);
    assert.deepEqual(listening, ['0100007F']);
    const v6 = readFileSync('/proc/net/tcp6', 'utf8');
    assert.ok(!v6.includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} `), 'not on IPv6');
    assert.equal(python(url, "out['ping'] = mom.ping()")['ping'], true);
  });
});
