// A mom.conf for momd on test-bed guests: the QMP backend on the guests' first sockets
// (*.qmp0.sock; tests keep the others), a memory cgroup as the host, PSI collected.
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
      ...Object.entries(main).map(([k, v]) => `${k}: ${v}`),
      '[host]',
      'collectors: HostMemory, HostKSM, HostPressure',
    ].join('\n'),
  );
  return path;
}
