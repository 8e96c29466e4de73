// Benchmark (issue 12, part 5): do API clients change the cycle period? momd runs on its simulated
// host (100 guests, cycles every 0.5 s of real time: 5 simulated seconds at speed 10) with its API
// on a unix socket. For PHASE_S seconds nobody asks anything; then for PHASE_S seconds CLIENTS
// clients each poll at RATE_HZ, alternating GET /v1/status and GET /v1/guests (the two a dashboard
// or a monitoring script reads). It prints, for both phases, the period between policy cycles
// (from momd's own log lines), the requests answered and their latency, and momd's CPU time.
// Run: npm run build && node dist/bench/api-load.js   (CLIENTS, RATE_HZ, PHASE_S, GUESTS)
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSimulatedMomConf } from '../test/integration/support/momd-conf.js';
import { startMomd, type LogLine } from '../test/integration/support/momd-process.js';
import { writeLoadScenario } from './load-scenario.js';
import { cpuSeconds } from './process.js';
import { quantile } from './stats.js';

const CLIENTS = Number(process.env.CLIENTS ?? 10);
const RATE_HZ = Number(process.env.RATE_HZ ?? 10);
const PHASE_S = Number(process.env.PHASE_S ?? 30);
const GUESTS = Number(process.env.GUESTS ?? 100);

function get(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Periods (s) between consecutive cycle lines logged in [from, to) (ms since 1970). */
function periods(log: readonly LogLine[], from: number, to: number): number[] {
  const times = log
    .filter((l) => l['cycle'] === true && typeof l['time'] === 'number')
    .map((l) => l['time'] as number)
    .filter((t) => t >= from && t < to);
  return times.slice(1).map((t, i) => (t - (times[i] as number)) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'momd-api-load-'));
  const socket = join(dir, 'api.sock');
  const conf = writeSimulatedMomConf(dir, [`simulator-scenario: ${writeLoadScenario(dir, GUESTS)}`]);
  const momd = startMomd(['-c', conf]);
  try {
    await momd.waitFor(
      'cycles with the guests',
      (l) => l['cycle'] === true && l['guests'] === GUESTS,
      60_000,
    );
    const pid = momd.child.pid as number;
    console.log(
      `api-load: ${GUESTS} simulated guests, cycles every 0.5 s; ${PHASE_S} s quiet, then ${PHASE_S} s of ${CLIENTS} clients at ${RATE_HZ} Hz each`,
    );
    console.log(
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`,
    );

    const quietFrom = Date.now();
    const quietCpu = cpuSeconds(pid);
    await sleep(PHASE_S * 1000);
    const loadFrom = Date.now();
    const loadCpu = cpuSeconds(pid);

    const latencies: number[] = [];
    let failures = 0;
    const stopAt = performance.now() + PHASE_S * 1000;
    const client = async (k: number): Promise<void> => {
      for (let i = 0; performance.now() < stopAt; i++) {
        const started = performance.now();
        try {
          const status = await get(socket, (i + k) % 2 === 0 ? '/v1/status' : '/v1/guests');
          if (status === 200) latencies.push(performance.now() - started);
          else failures++;
        } catch {
          failures++;
        }
        const wait = 1000 / RATE_HZ - (performance.now() - started);
        if (wait > 0) await sleep(wait);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
    const end = Date.now();
    const endCpu = cpuSeconds(pid);

    const row = (name: string, ps: number[], cpu: number, secs: number): string =>
      `${name}: cycle period median ${quantile(ps, 0.5).toFixed(3)} s, p99 ${quantile(ps, 0.99).toFixed(3)} s, max ${Math.max(...ps).toFixed(3)} s (${ps.length} periods); momd CPU ${((100 * cpu) / secs).toFixed(1)}% of a core`;
    console.log(
      row(
        'quiet ',
        periods(momd.log, quietFrom, loadFrom),
        loadCpu - quietCpu,
        (loadFrom - quietFrom) / 1000,
      ),
    );
    console.log(row('loaded', periods(momd.log, loadFrom, end), endCpu - loadCpu, (end - loadFrom) / 1000));
    console.log(
      `requests answered ${latencies.length} (${(latencies.length / ((end - loadFrom) / 1000)).toFixed(0)}/s), failed ${failures}; latency median ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
    );
  } finally {
    await momd.stop();
  }
}

await main();
