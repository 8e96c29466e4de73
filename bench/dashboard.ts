// Benchmark (issue 11): what the dashboard costs. momd runs on its simulated host with GUESTS
// guests (default 100) and the shipped default policy, cycling every 0.5 s of real time (5
// simulated seconds at speed 10: twenty times momd's default cadence, so a worst case), with a TCP
// listener and a token. It measures:
//   - the page's size (the three files as served, and gzipped for reference);
//   - time to first paint and time until the charts and the table hold data, over LOADS fresh
//     page loads in Debian's Chromium (median);
//   - momd's CPU with no page open and with the page open, PHASE_S seconds each, REPEATS times
//     alternately (median), and the page's own main-thread time per second while open.
// Run: npm run build && node dist/bench/dashboard.js   (GUESTS, PHASE_S, REPEATS, LOADS)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeSimulatedMomConf } from '../test/integration/support/momd-conf.js';
import { startMomd } from '../test/integration/support/momd-process.js';
import { chromiumPath } from '../test/integration/support/skip.js';
import { writeLoadScenario } from './load-scenario.js';
import { quantile } from './stats.js';

const GUESTS = Number(process.env.GUESTS ?? 100);
const PHASE_S = Number(process.env.PHASE_S ?? 60);
const REPEATS = Number(process.env.REPEATS ?? 3);
const LOADS = Number(process.env.LOADS ?? 5);
const TOKEN = 'dashboard-bench-token';

/** A process's CPU time so far (user + system), in seconds, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (xs: number[]): number => quantile(xs, 0.5);

/** Waits until the memory chart has points and the table has rows (selectors: the page's CSP forbids eval). */
async function dataShown(page: Page): Promise<void> {
  await page.waitForSelector('#chart-memory:not([data-points="0"])', { timeout: 30_000 });
  await page.waitForSelector('#guest-rows [data-guest]', { timeout: 30_000 });
}

async function pageSize(base: string): Promise<void> {
  let raw = 0;
  let gz = 0;
  const parts: string[] = [];
  for (const path of ['/', '/dashboard/app.js', '/dashboard/app.css']) {
    const body = Buffer.from(await (await fetch(base + path)).arrayBuffer());
    raw += body.length;
    gz += gzipSync(body).length;
    parts.push(`${path} ${(body.length / 1024).toFixed(1)} KiB`);
  }
  console.log(
    `page size: ${(raw / 1024).toFixed(1)} KiB as served (${parts.join(', ')}); ${(gz / 1024).toFixed(1)} KiB gzipped`,
  );
}

async function firstPaint(browser: Browser, base: string): Promise<void> {
  const fcp: number[] = [];
  const data: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    let received = 0;
    page.on('response', (r) => {
      if (!r.url().endsWith('/v1/events'))
        void r
          .body()
          .then((b) => (received += b.length))
          .catch(() => undefined);
    });
    await page.goto(`${base}/#token=${TOKEN}`);
    await dataShown(page);
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      data: performance.now(),
    }));
    fcp.push(t.fcp);
    data.push(t.data);
    bytes.push(received);
    await context.close();
  }
  console.log(
    `first contentful paint: median ${median(fcp).toFixed(0)} ms (${fcp.map((x) => x.toFixed(0)).join(', ')}); charts and table with data: median ${median(data).toFixed(0)} ms (${data.map((x) => x.toFixed(0)).join(', ')}); ${LOADS} fresh loads`,
  );
  console.log(
    `first load's data (status, timeline, guests, decisions; the page's files excluded): median ${(median(bytes) / 1024).toFixed(0)} KiB`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'momd-dashboard-bench-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const conf = writeSimulatedMomConf(dir, [
    `simulator-scenario: ${writeLoadScenario(dir, GUESTS)}`,
    'api-listen: 127.0.0.1:0',
    `api-token-file: ${tokenFile}`,
    `policy-dir: ${join(process.cwd(), 'policies', 'default')}`,
  ]);
  const momd = startMomd(['-c', conf]);
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('chromium not found (scripts/ensure-system-packages.sh)');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const base = String(
      (await momd.waitFor('the TCP listener', (l) => typeof l['api_url'] === 'string'))['api_url'],
    );
    await momd.waitFor('every guest', (l) => l['cycle'] === true && l['guests'] === GUESTS, 120_000);
    const pid = momd.child.pid as number;
    console.log(
      `dashboard bench: ${GUESTS} simulated guests, default policy, a cycle every 0.5 s; ${REPEATS} x (${PHASE_S} s without the page, ${PHASE_S} s with it open)`,
    );
    console.log(
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}, ${browser.version()}`,
    );
    await pageSize(base);
    await firstPaint(browser, base);

    const closed: number[] = [];
    const open: number[] = [];
    const pageMs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      let c0 = cpuSeconds(pid);
      await sleep(PHASE_S * 1000);
      closed.push((100 * (cpuSeconds(pid) - c0)) / PHASE_S);

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${base}/#token=${TOKEN}`);
      await dataShown(page);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const taskTime = async (): Promise<number> =>
        (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
      c0 = cpuSeconds(pid);
      const t0 = await taskTime();
      await sleep(PHASE_S * 1000);
      open.push((100 * (cpuSeconds(pid) - c0)) / PHASE_S);
      pageMs.push((((await taskTime()) - t0) * 1000) / PHASE_S);
      await page.close();
      console.log(
        `round ${r + 1}: momd CPU ${closed.at(-1)?.toFixed(1)}% of a core without the page, ${open.at(-1)?.toFixed(1)}% with it; the page's main thread ${pageMs.at(-1)?.toFixed(0)} ms per second`,
      );
    }
    console.log(
      `median over ${REPEATS} rounds: momd CPU ${median(closed).toFixed(1)}% without the page, ${median(open).toFixed(1)}% with it open (+${(median(open) - median(closed)).toFixed(1)} points); the page's main thread busy ${median(pageMs).toFixed(0)} ms per second (${(median(pageMs) / 10).toFixed(1)}%)`,
    );
  } finally {
    await browser.close();
    await momd.stop();
  }
}

await main();
