// The dashboard in a real browser: bin/momd.js on the simulated host with a TCP listener and a
// token, and Debian's Chromium driven by playwright-core (pointed at that binary; no browser is
// downloaded). The page must draw its charts and follow the cycles, show for a guest exactly what
// the API says, and show nothing to a wrong token. A screenshot is left in test-artifacts/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GuestRowView, StatusView } from '../../src/api/views.js';
import { recordSimulatedRun } from '../support/record-run.js';
import { repoRoot } from './support/guest-image.js';
import { writeSimulatedMomConf } from './support/momd-conf.js';
import { startMomd, type MomdProcess } from './support/momd-process.js';
import { chromiumAvailable, chromiumPath, requireAvailable, skipUnless } from './support/skip.js';
import { until } from './support/wait.js';

const TOKEN = 'dashboard-test-token-4c1f';
const artifacts = join(repoRoot(), 'test-artifacts');

describe('the dashboard in Chromium', { skip: skipUnless(chromiumAvailable()) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'momd-dashboard-'));
  let momd: MomdProcess;
  let base: string;
  let browser: Browser;

  const api = async <T>(path: string, token = TOKEN): Promise<{ status: number; body: T }> => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as T };
  };

  before(async () => {
    requireAvailable(chromiumAvailable());
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const conf = writeSimulatedMomConf(dir, [
      'api-listen: 127.0.0.1:0',
      `api-token-file: ${tokenFile}`,
      `policy-dir: ${join(repoRoot(), 'policies', 'default')}`,
    ]);
    momd = startMomd(['-c', conf]);
    const tcp = await momd.waitFor('the TCP listener', (l) => typeof l['api_url'] === 'string');
    base = String(tcp['api_url']);
    // The small scenario's guests all run within its first simulated minute.
    await momd.waitFor('four guests', (l) => l['cycle'] === true && l['guests'] === 4, 30_000);
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      // As root (CI) Chromium refuses its sandbox; the page is our own.
      args: ['--no-sandbox', '--disable-gpu'],
    });
  });

  after(async () => {
    await browser?.close();
    assert.equal(await momd.stop(), 0);
  });

  test('the page draws its charts and follows the cycles; its numbers are the API', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : undefined));
    await page.goto(`${base}/#token=${TOKEN}`);
    // The token leaves the address bar at once.
    await until('the token gone from the URL', 10_000, async () => ok(!page.url().includes('token')));

    const points = (): Promise<number> =>
      page.$eval('#chart-memory', (el) => Number(el.getAttribute('data-points')));
    await until('the memory chart drawn', 15_000, async () => ok((await points()) >= 2));
    const first = await points();
    const firstAt = await page.$eval('#cycle', (el) => Number(el.getAttribute('data-at')));
    // Live: more points and a later cycle come without reloading.
    await until('new points from the event stream', 15_000, async () => ok((await points()) >= first + 3));
    const laterAt = await page.$eval('#cycle', (el) => Number(el.getAttribute('data-at')));
    assert.ok(laterAt > firstAt, `cycle time moved: ${firstAt} → ${laterAt}`);
    for (const id of ['chart-psi', 'chart-ksm', 'chart-guest', 'chart-paging'])
      assert.ok(
        Number(await page.$eval(`#${id}`, (el) => el.getAttribute('data-points'))) > 0,
        `${id} has points`,
      );
    // uPlot drew into a canvas of the chart's size.
    const canvas = await page.$eval('#chart-memory canvas', (c) => Number(c.getAttribute('width')));
    assert.ok(canvas > 200, `canvas width ${canvas}`);

    // The decision feed fills as the policy acts.
    await until('decisions in the feed', 30_000, async () => ok((await page.$$('#decisions li')).length > 0));
    const feed = await page.$$eval('#decisions li', (lis) => lis.map((li) => li.textContent ?? ''));
    const decisions = await api<{ entity: string; control: string }[]>('/v1/decisions?limit=200');
    const newest = decisions.body.at(-1);
    assert.ok(newest !== undefined);
    assert.ok(
      feed.some((t) => t.includes(`${newest.entity} ${newest.control}`)),
      `the feed shows the API's newest decision ${newest.entity} ${newest.control}: ${feed.slice(0, 3).join(' | ')}`,
    );

    // A guest's row equals the API's row of the same cycle (both are read until their times agree).
    const guests = (await api<GuestRowView[]>('/v1/guests')).body;
    assert.equal(guests.length, 4);
    const name = guests[0]?.name ?? '';
    const fields = ['sizeKib', 'availableKib', 'unusedKib', 'cacheKib', 'floorKib', 'ceilingKib'] as const;
    const matched = await until('the page and the API on the same cycle', 20_000, async () => {
      const shown = await readRow(page, name);
      const row = (await api<GuestRowView[]>('/v1/guests')).body.find((g) => g.name === name);
      return row !== undefined && shown.time === row.time ? { shown, row } : undefined;
    });
    for (const f of fields)
      assert.equal(
        matched.shown.values[f],
        matched.row[f] === null ? '' : String(matched.row[f]),
        `${name} ${f}: page ${matched.shown.values[f]}, API ${String(matched.row[f])}`,
      );
    // Its text is the same number in MiB.
    const size = matched.row.sizeKib ?? 0;
    assert.match(
      matched.shown.text['sizeKib'] ?? '',
      new RegExp(`^${Math.round(size / 1024)}|${(size / 1024).toFixed(1)}`),
    );

    // The header names the backend and the policy the API reports.
    const status = (await api<StatusView>('/v1/status')).body;
    assert.match(await page.$eval('#backend', (el) => el.textContent ?? ''), /simulated/);
    assert.ok(
      (await page.$eval('#policy', (el) => el.textContent ?? '')).includes(
        status.policy?.hash.slice(0, 8) ?? '?',
      ),
    );
    assert.equal(await page.$eval('#conn', (el) => el.getAttribute('data-state')), 'live');

    // Selecting another guest charts it.
    const other = guests[1]?.name ?? '';
    await page.click(`[data-guest="${other}"]`);
    await until('the guest chart switched', 10_000, async () =>
      (await page.$eval('#guest-name', (el) => el.textContent)) === other ? true : undefined,
    );

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });

    // On a phone's width the page does not overflow sideways (the table scrolls in its own box)
    // and the charts fit the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await until('the charts resized to the phone', 10_000, async () => {
      const box = await page.$eval('#chart-memory canvas', (c) => c.getBoundingClientRect().width);
      return ok(box <= 390);
    });
    assert.ok((await page.$eval('body', (b) => b.scrollWidth)) <= 390, 'no sideways scrolling on a phone');
    await page.screenshot({ path: join(artifacts, 'dashboard-phone.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a wrong token gets no data: the page asks for the token and shows no guest', async () => {
    const page = await browser.newPage();
    const refused: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) refused.push(r.status());
    });
    await page.goto(`${base}/#token=not-the-token`);
    await until('the login form', 10_000, async () => ok(await page.isVisible('#login')));
    assert.equal(await page.isVisible('#main'), false);
    assert.equal((await page.$$('#guest-rows [data-guest]')).length, 0);
    assert.ok(refused.length > 0 && refused.every((s) => s === 401), `API answers: ${refused.join(', ')}`);
    // Nothing the API knows reached the page.
    const guests = (await api<GuestRowView[]>('/v1/guests')).body;
    const html = await page.content();
    for (const g of guests) assert.ok(!html.includes(`data-guest="${g.name}"`));
    // And straight to the API, the wrong token is refused for the timeline and the stream alike.
    assert.equal((await api('/v1/timeline', 'not-the-token')).status, 401);
    assert.equal((await fetch(`${base}/v1/events`)).status, 401);
    await page.close();
  });
});

describe(
  'a recording in the dashboard (momctl dashboard --recording)',
  { skip: skipUnless(chromiumAvailable()) },
  () => {
    test('the page shows the recorded period, read-only', async () => {
      requireAvailable(chromiumAvailable());
      const momd = recordSimulatedRun();
      const rec = momd.rec;
      assert.equal(momd.status, 0, momd.stderr);
      const cycles = readFileSync(join(rec, 'current.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              kind: string;
              guests?: { properties: { name: string }; samples: Record<string, unknown>[] }[];
              outcomes?: unknown[];
            },
        )
        .filter((l) => l.kind === 'cycle');
      // The newest recorded size of one guest: its last sample in the file.
      const name = cycles.at(-1)?.guests?.[0]?.properties.name ?? '';
      const sizes = cycles.flatMap(
        (c) => c.guests?.find((g) => g.properties.name === name)?.samples.map((x) => x['balloon_cur']) ?? [],
      );

      const child = spawn(process.execPath, ['bin/momctl.js', 'dashboard', '--recording', rec], {
        cwd: repoRoot(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: ['--no-sandbox', '--disable-gpu'],
      });
      try {
        const url = await until('momctl prints the URL', 30_000, () => /dashboard: (\S+)/.exec(out)?.[1]);
        assert.match(out, new RegExp(`recording ${rec}: ${cycles.length} cycles from `));
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        await page.goto(url);
        await until('the recording badge', 15_000, async () =>
          ok((await page.$eval('#conn', (el) => el.getAttribute('data-state'))) === 'recording'),
        );
        // Every recorded cycle is a point of the host's chart.
        await until('the whole period charted', 15_000, async () =>
          ok(
            Number(await page.$eval('#chart-memory', (el) => el.getAttribute('data-points'))) ===
              cycles.length,
          ),
        );
        assert.match(await page.$eval('#backend', (el) => el.textContent ?? ''), /recording/);
        assert.ok((await page.$$('#decisions li')).length > 0, 'the recorded decisions');
        const shown = await readRow(page, name);
        assert.equal(shown.values['sizeKib'], String(sizes.at(-1)), `${name}'s newest recorded size`);
        // Read-only, behind its own token.
        const origin = new URL(url).origin;
        const token = new URL(url).hash.replace('#token=', '');
        const put = await fetch(`${origin}/v1/dry-run`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{"enabled":true}',
        });
        assert.equal(put.status, 405);
        assert.equal((await fetch(`${origin}/v1/guests`)).status, 401);
        await page.close();
      } finally {
        await browser.close();
        child.kill('SIGINT');
      }
      assert.equal(await exited, 0);
    });
  },
);

/** For until(): a false probe means "not yet". */
const ok = (b: boolean): true | undefined => (b ? true : undefined);

async function readRow(
  page: Page,
  name: string,
): Promise<{ time: string; values: Record<string, string>; text: Record<string, string> }> {
  return page.$eval(`[data-guest="${name}"]`, (row) => {
    const values: Record<string, string> = {};
    const text: Record<string, string> = {};
    for (const cell of row.querySelectorAll('[data-col]')) {
      const col = cell.getAttribute('data-col') ?? '';
      const value = cell.getAttribute('data-value');
      if (value !== null) values[col] = value;
      text[col] = cell.textContent ?? '';
    }
    return { time: row.getAttribute('data-time') ?? '', values, text };
  });
}
