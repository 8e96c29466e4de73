// Small helpers shared by the integration tests: polling with a deadline, and the guest's own
// view of its memory as its init prints it every second.

/** Polls `probe` every 250 ms until it gives a value; throws naming `what` after timeoutMs. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface GuestMeminfo {
  totalKiB: number;
  freeKiB: number;
  availKiB: number;
}

/** The newest MOMD-GUEST-MEMINFO line of a serial console, or undefined before the first. */
export function latestMeminfo(serial: string): GuestMeminfo | undefined {
  const lines = serial.match(/MOMD-GUEST-MEMINFO total_kib=(\d+) free_kib=(\d+) avail_kib=(\d+)/g);
  const last = lines?.at(-1);
  if (last === undefined) return undefined;
  const [, t, f, a] = /total_kib=(\d+) free_kib=(\d+) avail_kib=(\d+)/.exec(last) ?? [];
  return { totalKiB: Number(t), freeKiB: Number(f), availKiB: Number(a) };
}
