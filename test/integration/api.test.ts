// The control API against the real daemon: bin/momd.js on the simulated host, reached over its unix
// socket by curl, by Node's HTTP client and by momctl, and over TCP with a bearer token. Short
// intervals (0.5 s) keep the whole file to a few seconds of cycles.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SIMULATED_PERIOD_S as PERIOD_S, writeSimulatedMomConf } from './support/momd-conf.js';
import { startMomd, type LogLine, type MomdProcess } from './support/momd-process.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

interface Reply {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** One HTTP request over the unix socket (or to a TCP port), with Node's own client. */
function http(
  where: { socketPath: string } | { port: number },
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...where, ...('port' in where ? { host: '127.0.0.1' } : {}), method, path, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * PUTs `total` bytes in 64 KiB chunks without a Content-Length, all of them even when the answer
 * comes first, and resolves to the status of the answer once everything is sent.
 */
function sendChunked(socketPath: string, path: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Its own connection: a large PUT is not retried on a pooled socket the server may be closing.
    const req = request({
      socketPath,
      path,
      method: 'PUT',
      agent: false,
      headers: { 'content-type': 'application/json' },
    });
    let status: number | undefined;
    let sentAll = false;
    const settle = (): void => (status !== undefined && sentAll ? resolve(status) : undefined);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      settle();
    });
    // momd reads and drops a refused body for up to 5 s, then answers and closes: a client still
    // sending then may get EPIPE, which is fine once its answer came.
    req.on('error', (e) => (status !== undefined ? resolve(status) : reject(e)));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end(() => {
        sentAll = true;
        settle();
      });
    };
    pump();
  });
}

/** The resident memory of a process, in MiB. */
function rssMib(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

function momctl(
  socket: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/momctl.js', '--socket', socket, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

function curl(...args: string[]): { status: number; body: string } {
  const r = spawnSync('curl', ['-sS', '-w', '\n%{http_code}', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `curl failed: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

/** curl PUTs a JSON body (`data`: the text, or `@FILE`) to PATH over the unix socket. */
function curlPut(socket: string, path: string, data: string): { status: number; body: string } {
  return curl(
    '--unix-socket',
    socket,
    '-X',
    'PUT',
    '-H',
    'content-type: application/json',
    '--data-binary',
    data,
    `http://momd${path}`,
  );
}

describe('the control API of a running momd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-api-'));
  const socket = join(dir, 'run', 'api.sock');
  const tokenFile = join(dir, 'token');
  let momd: MomdProcess;
  let log: LogLine[] = [];
  let port = 0;
  const waitLog = (what: string, pred: (l: LogLine) => boolean, from = 0, timeoutMs = 20_000) =>
    momd.waitFor(what, pred, timeoutMs, from);

  before(async () => {
    writeFileSync(join(dir, 'a.policy'), '(Host.Control "ksm_pages_to_scan" 111)\n');
    writeFileSync(join(dir, 'b.policy'), '(Host.Control "ksm_pages_to_scan" 222)\n');
    writeFileSync(join(dir, 'bad.policy'), '(defvar x 1)\n(+ x @)\n');
    writeFileSync(tokenFile, 'correct-horse-battery\n', { mode: 0o600 });
    const conf = writeSimulatedMomConf(dir, [
      'policy: a.policy',
      `api-socket: ${socket}`,
      'api-listen: 127.0.0.1:0',
      `api-token-file: ${tokenFile}`,
    ]);
    momd = startMomd(['-c', conf]);
    log = momd.log;
    const tcp = await waitLog('the TCP listener', (l) => typeof l['api_url'] === 'string');
    port = Number(new URL(String(tcp['api_url'])).port);
    await waitLog('policy a applied', (l) => l['control'] === 'ksm_pages_to_scan' && l['new'] === 111);
    // The small scenario's four guests start within its first simulated minute.
    await waitLog('four guests', (l) => l['cycle'] === true && l['guests'] === 4, 0, 30_000);
  });

  after(async () => {
    assert.equal(await momd.stop(), 0);
  });

  test('the socket is 0600, and npm-start style hints name it', () => {
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.ok(log.some((l) => l['msg'] === `API on ${socket}: try \`momctl --socket ${socket} status\``));
  });

  test('curl over the unix socket: status names the version, the policy and its hash', () => {
    const r = curl('--unix-socket', socket, 'http://momd/v1/status');
    assert.equal(r.status, 200);
    const s = JSON.parse(r.body) as {
      version: string;
      policy: { files: string[]; hash: string };
      dryRun: boolean;
    };
    assert.equal(s.version, VERSION);
    assert.deepEqual(s.policy.files, [join(dir, 'a.policy')]);
    assert.match(s.policy.hash, /^[0-9a-f]{64}$/);
    assert.equal(s.dryRun, false);
  });

  test("Node's HTTP client: the guests, one guest, the snapshot replayable by momctl policy run", async () => {
    const guests = JSON.parse((await http({ socketPath: socket }, 'GET', '/v1/guests')).body) as {
      name: string;
    }[];
    assert.deepEqual(
      guests.map((g) => g.name),
      ['batch', 'build', 'idle', 'web'],
    );
    const web = await http({ socketPath: socket }, 'GET', '/v1/guests/web');
    assert.equal(web.status, 200);
    assert.ok((JSON.parse(web.body) as { sizeKib: number }).sizeKib > 0);
    const snap = await http({ socketPath: socket }, 'GET', '/v1/snapshot');
    assert.equal(snap.status, 200);
    const file = join(dir, 'snap.json');
    writeFileSync(file, snap.body);
    const replay = spawnSync(
      process.execPath,
      ['bin/momctl.js', 'policy', 'run', '--snapshot', file, join(dir, 'b.policy')],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    assert.equal(replay.status, 0, replay.stderr);
    assert.deepEqual(JSON.parse(replay.stdout), { host: { ksm_pages_to_scan: 222 }, guests: {} });
  });

  test('momctl status and guests', () => {
    const s = momctl(socket, 'status');
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`^momd ${VERSION.replace(/\./g, '\\.')}, pid \\d+`));
    assert.match(s.stdout, /dry run: +off/);
    const g = momctl(socket, 'guests');
    assert.equal(g.status, 0, g.stderr);
    const [head, ...rows] = g.stdout.trim().split('\n');
    assert.match(
      head ?? '',
      /^NAME +SIZE MiB +FLOOR MiB +AVAIL MiB +AVAIL% +CACHE MiB +CACHE% +SWAP IN\/s +SWAP OUT\/s +LAST ACTION +WHY$/,
    );
    assert.deepEqual(
      rows.map((r) => r.split(/ +/)[0]),
      ['batch', 'build', 'idle', 'web'],
    );
  });

  test('momctl policy set of a bad policy: refused with FILE:LINE:COL, the old one stays', () => {
    const before = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/status').body) as {
      policy: { hash: string };
    };
    const bad = join(dir, 'bad.policy');
    const r = momctl(socket, 'policy', 'set', bad);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(`${bad}:2:6: error: Unexpected character '@'.`), r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    const after = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/status').body) as {
      policy: { hash: string; files: string[] };
      lastPolicyRejection: unknown;
    };
    assert.equal(after.policy.hash, before.policy.hash);
    assert.deepEqual(after.policy.files, [join(dir, 'a.policy')]);
  });

  test('dry run on: the new policy is evaluated and logged, nothing applied; off: it is applied', async () => {
    assert.equal(momctl(socket, 'dry-run', 'on').status, 0);
    const status = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/status').body) as {
      dryRun: boolean;
    };
    assert.equal(status.dryRun, true);
    const from = log.length;
    const set = momctl(socket, 'policy', 'set', join(dir, 'b.policy'));
    assert.equal(set.status, 0, set.stderr);
    const wants222 = (l: LogLine) =>
      l['dry_run'] === true && /would set host\.ksm_pages_to_scan=222/.test(String(l['msg']));
    await waitLog('a dry-run cycle that would set 222', wants222, from);
    const second = log.findIndex(
      (l, i) => i > log.indexOf(log.slice(from).find(wants222) as LogLine) && wants222(l),
    );
    if (second < 0)
      await waitLog(
        'a second dry-run cycle',
        wants222,
        log.indexOf(log.slice(from).find(wants222) as LogLine) + 1,
      );
    const applied = (l: LogLine) =>
      l['control'] === 'ksm_pages_to_scan' && l['new'] === 222 && /→/.test(String(l['msg']));
    assert.ok(!log.slice(from).some(applied), 'nothing applied during the dry run');
    const decisions = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/decisions').body) as {
      reason: string | null;
    }[];
    assert.ok(decisions.some((d) => d.reason === 'dry run: not applied'));

    const offAt = log.length;
    assert.equal(momctl(socket, 'dry-run', 'off').status, 0);
    await waitLog('222 applied after the dry run', applied, offAt);
  });

  test('momctl policy reload and get, host, guest, decisions, snapshot, verbosity and watch', async () => {
    // The dry-run test left b.policy (set through the API) in force: reload reads the files again.
    const from = log.length;
    const reload = momctl(socket, 'policy', 'reload');
    assert.equal(reload.status, 0, reload.stderr);
    assert.equal(reload.stdout, 'reloaded\n');
    await waitLog(
      '111 applied after the reload',
      (l) => l['control'] === 'ksm_pages_to_scan' && l['new'] === 111,
      from,
    );
    const get = momctl(socket, 'policy', 'get');
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /^# ==> .*a\.policy <==\n\(Host\.Control "ksm_pages_to_scan" 111\)\n$/);

    const host = momctl(socket, 'host');
    assert.equal(host.status, 0, host.stderr);
    assert.match(host.stdout, /^at \d{4}-\d\d-\d\dT/);
    const hostJson = JSON.parse(momctl(socket, 'host', '--json').stdout) as {
      latest: { sample: { mem_available: number } };
    };
    // mem_available (KiB in the API) shown in MiB; the simulated host's size does not change.
    const memMib = Math.round(hostJson.latest.sample.mem_available / 1024);
    assert.match(host.stdout, new RegExp(`^mem_available +${memMib} MiB$`, 'm'));
    assert.match(host.stdout, /^CONTROL +WANTED +OUTCOME +OLD +NEW +WHY$/m);
    assert.match(host.stdout, /^ksm_pages_to_scan +111 +(applied|unchanged) +\d+ +111 /m);

    const guest = momctl(socket, 'guest', 'web');
    assert.equal(guest.status, 0, guest.stderr);
    const lines = guest.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NAME +SIZE MiB +FLOOR MiB/);
    assert.match(lines[1] ?? '', /^web +\d+ /);
    assert.match(guest.stdout, /^no controls$/m);
    assert.match(guest.stdout, /^mem_available +\d+ MiB$/m);
    const missing = momctl(socket, 'guest', 'no-such-guest');
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, "momctl: not found: no guest named 'no-such-guest'\n");

    const decisions = momctl(socket, 'decisions', '--limit', '3');
    assert.equal(decisions.status, 0, decisions.stderr);
    const [dHead, ...dRows] = decisions.stdout.trim().split('\n');
    assert.match(dHead ?? '', /^TIME +ENTITY +ACTION +WHY$/);
    assert.ok(dRows.length >= 1 && dRows.length <= 3, decisions.stdout);
    assert.match(dRows.at(-1) ?? '', /^\d\d:\d\d:\d\d +host +ksm_pages_to_scan \d+→111 applied /);

    const snap = momctl(socket, 'snapshot');
    assert.equal(snap.status, 0, snap.stderr);
    const snapFile = join(dir, 'momctl-snap.json');
    writeFileSync(snapFile, snap.stdout);
    const replay = spawnSync(
      process.execPath,
      ['bin/momctl.js', 'policy', 'run', '--snapshot', snapFile, join(dir, 'b.policy')],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    assert.equal(replay.status, 0, replay.stderr);
    assert.deepEqual(JSON.parse(replay.stdout), { host: { ksm_pages_to_scan: 222 }, guests: {} });

    const debug = momctl(socket, 'verbosity', 'debug');
    assert.equal(debug.status, 0, debug.stderr);
    assert.equal(debug.stdout, 'verbosity debug\n');
    assert.equal(JSON.parse(momctl(socket, 'status', '--json').stdout).verbosity, 'debug');
    const loud = momctl(socket, 'verbosity', 'loud');
    assert.notEqual(loud.status, 0);
    assert.match(loud.stderr, /expected one of debug, info, warn, error, critical/);
    assert.equal(momctl(socket, 'verbosity', 'info').status, 0);

    // Not a terminal: each cycle's table follows the last, after a line with the cycle's time.
    const watch = momctl(socket, 'watch', '--cycles', '2');
    assert.equal(watch.status, 0, watch.stderr);
    const screens =
      watch.stdout.match(/^\d{4}-\d\d-\d\dT\S+ +cycle done in [\d.]+ ms\nNAME +SIZE MiB/gm) ?? [];
    assert.equal(screens.length, 2, watch.stdout);
    for (const name of ['batch', 'build', 'idle', 'web'])
      assert.match(watch.stdout, new RegExp(`^${name} `, 'm'));
  });

  test('TCP: no token or a wrong one is a 401 with no detail; the right one passes', () => {
    const url = `http://127.0.0.1:${port}/v1/status`;
    for (const auth of [
      [],
      ['-H', 'Authorization: Bearer wrong'],
      ['-H', 'Authorization: Basic correct-horse-battery'],
    ]) {
      const r = curl(...auth, url);
      assert.equal(r.status, 401);
      assert.equal(r.body, '{"error":"unauthorized"}');
    }
    const ok = curl('-H', 'Authorization: Bearer correct-horse-battery', url);
    assert.equal(ok.status, 200);
    const viaMomctl = spawnSync(
      process.execPath,
      ['bin/momctl.js', '--url', `http://127.0.0.1:${port}`, '--token-file', tokenFile, 'status', '--json'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    assert.equal(viaMomctl.status, 0, viaMomctl.stderr);
    const wrong = spawnSync(
      process.execPath,
      ['bin/momctl.js', '--url', `http://127.0.0.1:${port}`, 'status'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, MOMD_TOKEN: 'nope' },
      },
    );
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr.trim(), 'momctl: unauthorized');
  });

  test('an oversized body is a 413, malformed JSON a 400 naming the problem, and momd goes on', async () => {
    // Announced too large (curl sends a Content-Length): refused, the body read and thrown away.
    const bigFile = join(dir, 'big.json');
    writeFileSync(bigFile, Buffer.alloc(2 * 1024 * 1024, 0x20));
    const announced = curlPut(socket, '/v1/policy', `@${bigFile}`);
    assert.equal(announced.status, 413);
    assert.equal((JSON.parse(announced.body) as { error: string }).error, 'payload too large');
    // Sent in chunks without a length: refused once the limit is passed; the client sends on, all
    // 128 MiB (little enough to pass within momd's 5 s cut-off on a busy machine), reads its 413,
    // and momd throws the rest away instead of holding it.
    const pid = momd.child.pid ?? 0;
    const rssBefore = rssMib(pid);
    assert.equal(await sendChunked(socket, '/v1/policy', 128 * 1024 * 1024), 413);
    const grown = rssMib(pid) - rssBefore;
    assert.ok(grown < 48, `momd grew by ${grown.toFixed(0)} MiB while a client sent 128 MiB`);
    const bad = curlPut(socket, '/v1/dry-run', '{"enabled": tru');
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.body) as { message: string }).message, /^malformed JSON body: /);
    const field = curlPut(socket, '/v1/verbosity', '{"level": 5}');
    assert.equal(field.status, 400);
    assert.match(field.body, /body\/level must be string/);
    assert.equal((await http({ socketPath: socket }, 'GET', '/v1/status')).status, 200);
  });

  test('a policy that fails cycle after cycle: the safe fallback shows in status and momctl status; a good policy ends it', async () => {
    const failing = join(dir, 'failing.policy');
    writeFileSync(failing, '(Host.Control "ksm_pages_to_scan" 333)\n(/ 1 0)\n');
    const from = log.length;
    const set = momctl(socket, 'policy', 'set', failing);
    assert.equal(set.status, 0, set.stderr);
    await waitLog('the fallback', (l) => l['code'] === 'MOM_E_POLICY_FALLBACK', from);
    const status = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/status').body) as {
      policyFallback: { since: string; failures: number } | null;
      lastCycle: { status: string; detail: string };
    };
    assert.ok(status.policyFallback && status.policyFallback.failures >= 3, JSON.stringify(status));
    assert.equal(status.lastCycle.status, 'policy-error');
    assert.match(status.lastCycle.detail, /failing\.policy:2:1: error: Division by zero/);
    const text = momctl(socket, 'status');
    assert.match(text.stdout, /^fallback: +ON since \S+: the policy failed \d+ cycles in a row/m);
    assert.ok(
      !log.slice(from).some((l) => l['control'] === 'ksm_pages_to_scan' && l['new'] === 333),
      'nothing of the failing policy is applied',
    );
    const back = log.length;
    const good = momctl(socket, 'policy', 'set', join(dir, 'a.policy'));
    assert.equal(good.status, 0, good.stderr);
    await waitLog('the end of the fallback', (l) => l['code'] === 'MOM_W_POLICY_FALLBACK_OVER', back);
    const after = JSON.parse(curl('--unix-socket', socket, 'http://momd/v1/status').body) as {
      policyFallback: unknown;
    };
    assert.equal(after.policyFallback, null);
    assert.match(momctl(socket, 'status').stdout, /^fallback: +off$/m);
    // Back to the files, as the tests after this one expect.
    assert.equal(momctl(socket, 'policy', 'reload').status, 0);
  });

  test('cycles keep their period while 10 clients hold event streams, 10 poll at 10 Hz and one never reads', async () => {
    const windowMs = 5000;
    const stop = new AbortController();
    // Eleven streams listen to the one signal, on purpose.
    setMaxListeners(20, stop.signal);
    const streams: IncomingMessage[] = [];
    let events = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ socketPath: socket, path: '/v1/events', signal: stop.signal }, (res) => {
          streams.push(res);
          res.on('data', (c: Buffer) => (events += (c.toString().match(/^event: cycle$/gm) ?? []).length));
          res.on('error', () => {});
          resolve();
        });
        req.on('error', (e) => (stop.signal.aborted ? undefined : reject(e)));
        req.end();
      });
    }
    // A client that opens a stream and never reads from it.
    const stalled = request({ socketPath: socket, path: '/v1/events', signal: stop.signal }, (res) =>
      res.pause(),
    );
    stalled.on('error', () => {});
    stalled.end();
    let polls = 0;
    let pollErrors = 0;
    const pollers = Array.from({ length: 10 }, async (_, i) => {
      const paths = ['/v1/status', '/v1/guests', '/v1/host', '/v1/decisions', '/v1/snapshot'];
      while (!stop.signal.aborted) {
        const r = await http({ socketPath: socket }, 'GET', paths[i % paths.length] ?? '/v1/status').catch(
          () => null,
        );
        if (r?.status === 200) polls++;
        else pollErrors++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const from = log.length;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const to = log.length;
    stop.abort();
    await Promise.all(pollers);
    for (const s of streams) s.destroy();

    const cycleTimes = (first: number, last: number): number[] =>
      log
        .slice(first, last)
        .filter((l) => l['cycle'] === true)
        .map((l) => Number(l['time']));
    const times = cycleTimes(from, to);
    // The same window with no client, right after: what this (shared, maybe busy) machine allows.
    const quietFrom = log.length;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const quietTimes = cycleTimes(quietFrom, log.length);
    const gapsOf = (ts: number[]): number[] => ts.slice(1).map((t, i) => (t - (ts[i] ?? t)) / 1000);
    const gaps = gapsOf(times);
    const lateBound = Math.max(2 * PERIOD_S, 1.5 * Math.max(0, ...gapsOf(quietTimes)));
    const expected = windowMs / 1000 / PERIOD_S;
    assert.ok(
      times.length >= Math.min(expected, quietTimes.length) * 0.8,
      `${times.length} cycles in ${windowMs} ms under load, ${quietTimes.length} without clients, ${expected} on an idle machine`,
    );
    assert.ok(
      Math.max(...gaps) < lateBound,
      `a cycle came late: gaps ${gaps.join(', ')} (bound ${lateBound} s)`,
    );
    assert.ok(polls >= 10 * (windowMs / 100) * 0.5, `only ${polls} polls answered`);
    assert.equal(pollErrors, 0);
    assert.ok(events >= 10 * times.length * 0.8, `the streams got ${events} cycle events`);
  });
});

test('momd refuses to start a TCP listener without api-token-file, naming the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-api-notoken-'));
  writeFileSync(
    join(dir, 'mom.conf'),
    `[main]\nhypervisor-interface: simulated\napi-socket: ${join(dir, 'api.sock')}\napi-listen: 127.0.0.1:0\n`,
  );
  const r = spawnSync(process.execPath, ['bin/momd.js', '-c', join(dir, 'mom.conf'), '--duration', '5'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /mom\.conf:4: \[main\] api-listen: a TCP listener needs api-token-file/);
});

test('momctl with no daemon: one line and exit 1', () => {
  const r = momctl(join(tmpdir(), 'no-such-momd.sock'), 'status');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^momctl: no momd answers on .*no-such-momd\.sock \(ENOENT\): is momd running\?\n$/);
});

test('TLS: with api-tls-cert and api-tls-key the TCP listener speaks HTTPS only, and still wants the token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-api-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // A throwaway self-signed certificate for 127.0.0.1, made here (openssl: scripts/ensure-system-packages.sh).
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(made.status, 0, `openssl failed: ${made.stderr}`);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'tls-token\n', { mode: 0o600 });
  const momd = startMomd([
    '-c',
    writeSimulatedMomConf(dir, [
      'api-listen: 127.0.0.1:0',
      `api-token-file: ${tokenFile}`,
      `api-tls-cert: ${cert}`,
      `api-tls-key: ${key}`,
    ]),
  ]);
  try {
    const line = await momd.waitFor('the HTTPS listener', (l) => typeof l['api_url'] === 'string');
    const url = String(line['api_url']);
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = curl('--cacert', cert, '-H', 'Authorization: Bearer tls-token', `${url}/v1/status`);
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body) as { version: string }).version, VERSION);
    const noToken = curl('--cacert', cert, `${url}/v1/status`);
    assert.equal(noToken.status, 401);
    // Plain HTTP to the TLS port gets no API answer.
    const plain = spawnSync(
      'curl',
      ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url.replace('https:', 'http:')],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.notEqual(plain.stdout.trim(), '200');
  } finally {
    assert.equal(await momd.stop(), 0);
  }
});
