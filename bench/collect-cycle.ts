// Benchmark: the cost of one collection cycle (list the guests, then read every guest's memory
// statistics) against real QEMU guests, on the QMP and the libvirt backends, for 1, 4, 8 and 16
// guests. Target (issue 4): under 100 ms wall per cycle with 16 guests, and for libvirt growing far
// slower than linearly. Needs root, QEMU and libvirt (sh scripts/ensure-system-packages.sh).
// Run: npm run build && node dist/bench/collect-cycle.js
import { chmodSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Hypervisor } from '../src/hypervisors/hypervisor.js';
import { createLibvirtBackend } from '../src/hypervisors/libvirt/index.js';
import { createQmpBackend } from '../src/hypervisors/qmp/index.js';
import { guestImage } from '../test/integration/support/guest-image.js';
import { defineAndStartDomain, destroyDomain, ensureLibvirtd } from '../test/integration/support/libvirt.js';
import { startGuest, stopAll, type GuestHandle } from '../test/integration/support/qemu.js';

const COUNTS = [1, 4, 8, 16];
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const MEMORY_MIB = 160;

async function measure(
  backend: Hypervisor,
  expected: number,
  prefix: string,
): Promise<{ median: number; p90: number }> {
  // Wait until every guest is listed and reports statistics, then time whole cycles.
  for (let i = 0; i < 240; i++) {
    const listed = (await backend.listGuests()).filter((g) => g.name.startsWith(prefix));
    if (listed.length === expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const guests = (await backend.listGuests()).filter((g) => g.name.startsWith(prefix));
    await backend.guestStats(guests.map((g) => g.id));
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)] ?? NaN,
    p90: times[Math.floor(times.length * 0.9)] ?? NaN,
  };
}

await guestImage();
const dir = mkdtempSync(join(tmpdir(), 'momd-bench-'));
chmodSync(dir, 0o755);
console.log(`collect-cycle: one list + one statistics read of N real guests (TCG, ${MEMORY_MIB} MiB each)`);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}; ${RUNS} cycles per point`,
);
const rows: string[] = [];
try {
  // QMP: guests started one batch at a time, sockets *.qmp0.sock for the backend.
  const qmp = createQmpBackend({ socketGlob: join(dir, '*.qmp0.sock') });
  const guests: GuestHandle[] = [];
  for (const n of COUNTS) {
    while (guests.length < n) {
      guests.push(
        await startGuest({ name: `bq${guests.length}`, memoryMiB: MEMORY_MIB, balloon: true, dir }),
      );
    }
    await Promise.all(guests.map((g) => g.waitForReady(180_000)));
    const r = await measure(qmp, n, 'bq');
    rows.push(
      `qmp      ${String(n).padStart(3)} guests  median ${r.median.toFixed(1)} ms  p90 ${r.p90.toFixed(1)} ms`,
    );
    console.log(rows.at(-1));
  }
  await qmp.close();
  await stopAll(guests);

  const daemons = await ensureLibvirtd();
  const libvirt = createLibvirtBackend({});
  const names: string[] = [];
  try {
    for (const n of COUNTS) {
      while (names.length < n) {
        const name = `bl${process.pid}-${names.length}`;
        const d = await defineAndStartDomain({
          name,
          memoryMiB: MEMORY_MIB,
          balloon: true,
          statsPeriod: 2,
          dir,
        });
        names.push(name);
        await d.waitForReady(180_000);
      }
      const r = await measure(libvirt, n, `bl${process.pid}-`);
      rows.push(
        `libvirt  ${String(n).padStart(3)} guests  median ${r.median.toFixed(1)} ms  p90 ${r.p90.toFixed(1)} ms`,
      );
      console.log(rows.at(-1));
    }
  } finally {
    for (const name of names) await destroyDomain(name).catch(() => false);
    await daemons.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log('target: under 100 ms per cycle at 16 guests; libvirt growing far slower than linearly');
