// Every balloon back to its guest's maximum: what `deflate-on-exit` does when momd stops cleanly,
// for an administrator who takes momd off a host and wants the guests whole again. Uses the
// hypervisor port only: one listing, one statistics request, one balloon change per guest that is
// under its maximum. A guest that fails is reported and the others are still deflated.
import { HypervisorError, type Hypervisor } from './hypervisor.js';

export interface DeflateResult {
  /** Guests given their maximum back: name, from and to (KiB). */
  readonly deflated: ReadonlyArray<{ readonly name: string; readonly from: number; readonly to: number }>;
  /** Guests already at their maximum, or whose figures the backend does not give. */
  readonly untouched: readonly string[];
  /** Guests that could not be deflated, with why. */
  readonly failed: ReadonlyArray<{ readonly name: string; readonly error: string }>;
}

export async function deflateAll(hypervisor: Hypervisor, signal?: AbortSignal): Promise<DeflateResult> {
  const guests = await hypervisor.listGuests(signal);
  const stats = await hypervisor.guestStats(
    guests.map((g) => g.id),
    signal,
  );
  const deflated: Array<{ name: string; from: number; to: number }> = [];
  const untouched: string[] = [];
  const failed: Array<{ name: string; error: string }> = [];
  for (const g of guests) {
    const r = stats.get(g.id);
    if (r instanceof HypervisorError) {
      failed.push({ name: g.name, error: r.message });
      continue;
    }
    const cur = r?.['balloon_cur'];
    const max = r?.['balloon_max'];
    if (typeof cur !== 'number' || typeof max !== 'number' || cur >= max) {
      untouched.push(g.name);
      continue;
    }
    try {
      const to = await hypervisor.setBalloonTarget(g.id, max, signal);
      deflated.push({ name: g.name, from: cur, to });
    } catch (err) {
      failed.push({ name: g.name, error: (err as Error).message });
    }
  }
  return { deflated, untouched, failed };
}
