// Whether integration tests with real guests can run here, and the policy when they cannot:
// locally (CI unset) they are skipped with the reason; in CI (CI=true) they are NOT skipped, so a
// missing prerequisite fails them (the CI job runs scripts/ensure-system-packages.sh as root first).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type Availability = { ok: true } | { ok: false; reason: string };

const HOW_TO = 'run scripts/ensure-system-packages.sh as root';

/** The absolute path of `command` on PATH (or the usual sbin folders), or undefined. */
export function which(command: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, command);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when the CI environment variable says so (CI=true, as GitHub Actions and most CIs set). */
export function inCI(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci !== '' && ci !== 'false' && ci !== '0';
}

/** Real QEMU guests can run: we are root and qemu-system-x86_64 exists. */
export function realGuestsAvailable(): Availability {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'integration tests with real guests need root' };
  if (!which('qemu-system-x86_64')) return { ok: false, reason: `qemu-system-x86_64 not found (${HOW_TO})` };
  return { ok: true };
}

/** Real guests can run and libvirtd, virtlogd and virsh exist. */
export function libvirtAvailable(): Availability {
  const guests = realGuestsAvailable();
  if (!guests.ok) return guests;
  for (const tool of ['libvirtd', 'virtlogd', 'virsh'])
    if (!which(tool)) return { ok: false, reason: `${tool} not found (${HOW_TO})` };
  return { ok: true };
}

/** Debian's QEMU guest agent, run on the host as a stand-in guest's agent (`qemu-ga -m unix-listen`). */
export function guestAgentAvailable(): Availability {
  return which('qemu-ga') === undefined
    ? { ok: false, reason: `qemu-ga not found (${HOW_TO})` }
    : { ok: true };
}

/** A real Chromium to drive (Debian's `chromium`; no browser is ever downloaded). */
export function chromiumAvailable(): Availability {
  const path = chromiumPath();
  return path === undefined ? { ok: false, reason: `chromium not found (${HOW_TO})` } : { ok: true };
}

export function chromiumPath(): string | undefined {
  return which('chromium') ?? which('chromium-browser');
}

/** The machine's zswap knobs can be written: we are root and /sys/module/zswap/parameters is writable. */
export function zswapWritable(dir = '/sys/module/zswap/parameters'): Availability {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'changing zswap needs root' };
  for (const knob of ['enabled', 'max_pool_percent']) {
    try {
      accessSync(join(dir, knob), constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        ok: false,
        reason:
          code === 'ENOENT'
            ? `no ${dir}: this kernel has no zswap (CONFIG_ZSWAP)`
            : `${join(dir, knob)} is not writable here (${code ?? 'unknown error'}; a read-only /sys?)`,
      };
    }
  }
  return { ok: true };
}

/**
 * The `skip` option for describe()/test(): the reason to skip locally, false when available or in
 * CI. In CI, pair it with requireAvailable() in a before() hook so that the tests fail instead.
 */
export function skipUnless(availability: Availability): string | false {
  if (availability.ok || inCI()) return false;
  return availability.reason;
}

/** Throws the reason when unavailable (for a before() hook: fails the suite in CI). */
export function requireAvailable(availability: Availability): void {
  if (!availability.ok)
    throw new Error(`integration prerequisites missing${inCI() ? ' in CI' : ''}: ${availability.reason}`);
}
