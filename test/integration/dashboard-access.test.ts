// How an administrator reaches the dashboard without configuring a TCP listener: `momd
// --dashboard` (a loopback port behind a token made at start, printed in the URL) and `momctl
// dashboard` (forwards reads to the unix socket from a loopback port, behind its own token). Real
// processes, real HTTP.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from './support/guest-image.js';
import { writeSimulatedMomConf } from './support/momd-conf.js';
import { startMomd, type MomdProcess } from './support/momd-process.js';
import { until } from './support/wait.js';

const tokenOf = (url: string): string => new URL(url).hash.replace(/^#token=/, '');
const get = (url: string, token?: string): Promise<Response> =>
  fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

describe('momd --dashboard and momctl dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-dash-access-'));
  const socket = join(dir, 'api.sock');
  let momd: MomdProcess;
  let url: string;

  before(async () => {
    const conf = writeSimulatedMomConf(dir, [`api-socket: ${socket}`]);
    momd = startMomd(['-c', conf, '--dashboard', '127.0.0.1:0']);
    url = String(
      (await momd.waitFor('the dashboard URL', (l) => typeof l['dashboard'] === 'string'))['dashboard'],
    );
  });

  after(async () => {
    assert.equal(await momd.stop(), 0);
  });

  test('momd --dashboard prints a loopback URL whose token opens the API, and only that token', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{24}$/);
    const origin = new URL(url).origin;
    assert.equal((await get(`${origin}/`)).status, 200);
    assert.equal((await get(`${origin}/v1/status`)).status, 401);
    assert.equal((await get(`${origin}/v1/status`, 'guess')).status, 401);
    assert.equal((await get(`${origin}/v1/status`, tokenOf(url))).status, 200);
  });

  test('momd --dashboard refuses an address other machines reach, saying why', () => {
    const r = spawnSync(process.execPath, ['bin/momd.js', '--dashboard', '0.0.0.0:8181'], {
      cwd: repoRoot(),
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /0\.0\.0\.0 is not a loopback address: .*set api-listen and api-token-file/);
  });

  test('momctl dashboard forwards reads to the socket behind its own token, and nothing else', async () => {
    const child = spawn(process.execPath, ['bin/momctl.js', '--socket', socket, 'dashboard'], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const forwarded = await until('momctl prints the URL', 20_000, () => /dashboard: (\S+)/.exec(out)?.[1]);
      assert.match(out, new RegExp(`reads forwarded to ${socket.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      const origin = new URL(forwarded).origin;
      const token = tokenOf(forwarded);
      assert.notEqual(token, tokenOf(url), 'its own token, not momd --dashboard’s');
      const page = await get(`${origin}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>momd<\/title>/);
      assert.equal((await get(`${origin}/v1/guests`)).status, 401);
      const guests = await get(`${origin}/v1/guests`, token);
      assert.equal(guests.status, 200);
      assert.ok(Array.isArray(await guests.json()));
      // Reads only: a write is refused by momctl before it reaches momd.
      const put = await fetch(`${origin}/v1/dry-run`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"enabled":true}',
      });
      assert.equal(put.status, 405);
      const status = (await (await get(`${origin}/v1/status`, token)).json()) as { dryRun: boolean };
      assert.equal(status.dryRun, false);
      // The event stream flows through.
      const ctrl = new AbortController();
      const events = await fetch(`${origin}/v1/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: ctrl.signal,
      });
      assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = events.body!.getReader();
      let text = '';
      while (!text.includes('event: cycle')) text += new TextDecoder().decode((await reader.read()).value);
      ctrl.abort();
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});
