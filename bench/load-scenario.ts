// The simulated host of the load benchmarks (api-load, dashboard): GUESTS guests of 1 GiB on a
// host with two thirds of their RAM, half following slow waves of memory use, half idle.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the scenario into `dir`; returns its path. */
export function writeLoadScenario(dir: string, guests: number): string {
  const file = join(dir, 'load.yaml');
  writeFileSync(
    file,
    `name: load-${guests}
description: ${guests} guests of 1 GiB, half in waves, half idle
duration_s: 100000
step_s: 1
host: { memory_gib: ${Math.ceil((guests * 2) / 3)}, cpus: 32, os_mib: 1024, cache_mib: 512, swap_gib: 32 }
ksm: { run: 0 }
guests:
  - name: busy
    count: ${Math.ceil(guests / 2)}
    memory_mib: 1024
    workload:
      kind: memknobs
      touch_mib_s: 512
      pattern: { kind: wave, shape: sine, min_mib: 128, max_mib: 896, period_s: 900, period_step_s: 7, phase_s: 0, phase_step_s: 13 }
  - name: idle
    count: ${Math.floor(guests / 2)}
    memory_mib: 1024
    workload: { kind: idle, touch_mib: 700, keep_mib: 150, boot_s: 20 }
`,
  );
  return file;
}
