// mom.conf files for tests: momd on test-bed guests (the QMP backend on the guests' first sockets,
// *.qmp0.sock, tests keep the others; a memory cgroup as the host, PSI collected), and momd on its
// simulated host, cycling fast.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes DIR/mom.conf with these settings plus `main` ([main] key → value); returns its path. */
export function writeQmpMomConf(
  dir: string,
  hostCgroup: string,
  main: Readonly<Record<string, string>>,
): string {
  const path = join(dir, 'mom.conf');
  writeFileSync(
    path,
    [
      '[main]',
      'hypervisor-interface: qmp',
      `qmp-socket-glob: ${join(dir, '*.qmp0.sock')}`,
      `host-memory-source: ${hostCgroup}`,
      // The test's own API socket: a momd already on /run/momd/api.sock must not stop the test.
      `api-socket: ${join(dir, 'api.sock')}`,
      // Nor may a note of a paused guest under /run/momd (contention-pause-record) be read.
      `contention-pause-record: ${join(dir, 'contention-paused.json')}`,
      ...Object.entries(main).map(([k, v]) => `${k}: ${v}`),
      '[host]',
      'collectors: HostMemory, HostKSM, HostPressure',
    ].join('\n'),
  );
  return path;
}

/** Real seconds between cycles of a fast simulated momd: 5 simulated seconds at 10 a real second. */
export const SIMULATED_PERIOD_S = 0.5;
const SIMULATED_SPEED = 10;

/**
 * Writes DIR/mom.conf for momd on its simulated host (the small scenario, four guests), cycling
 * every SIMULATED_PERIOD_S real seconds, with its API socket at DIR/api.sock unless `main` names
 * another, plus these [main] lines; returns its path.
 */
export function writeSimulatedMomConf(dir: string, main: readonly string[]): string {
  const path = join(dir, 'mom.conf');
  const intervals = ['policy-engine', 'host-monitor', 'guest-monitor', 'guest-manager'].map(
    (k) => `${k}-interval: ${SIMULATED_PERIOD_S * SIMULATED_SPEED}`,
  );
  writeFileSync(
    path,
    [
      '[main]',
      'hypervisor-interface: simulated',
      `simulator-speed: ${SIMULATED_SPEED}`,
      ...intervals,
      'pressure-check-interval: 0',
      ...(main.some((l) => l.startsWith('api-socket:')) ? [] : [`api-socket: ${join(dir, 'api.sock')}`]),
      ...main,
      '',
    ].join('\n'),
  );
  return path;
}
