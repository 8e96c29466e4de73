// Minimal in-memory stand-ins for unit tests of controllers and the engine's plumbing. The
// engine's behaviour on a whole host is tested on the simulator (src/sim), not on these.
import type { GuestInfo, GuestMemoryStats, Hypervisor } from '../../src/hypervisors/hypervisor.js';
import { HypervisorError } from '../../src/hypervisors/hypervisor.js';
import type { HostMemory, HostSource, KsmSettings, KsmState } from '../../src/hypervisors/host.js';

export function guestStats(over: Partial<GuestMemoryStats> = {}): GuestMemoryStats {
  return {
    balloon_cur: 1048576,
    balloon_max: 1048576,
    balloon_min: null,
    mem_available: 1048576,
    mem_unused: 524288,
    mem_cache: 0,
    mem_usable: 524288,
    stats_age_s: 0,
    swap_in: 0,
    swap_out: 0,
    major_fault: 0,
    minor_fault: 0,
    swap_total: 0,
    swap_usage: 0,
    rss: 1048576,
    ...over,
  };
}

export class FakeHypervisor implements Hypervisor {
  readonly name = 'fake';
  readonly guests = new Map<string, { info: GuestInfo; stats: GuestMemoryStats }>();
  readonly calls: Array<{ id: string; kib: number }> = [];
  failWith: HypervisorError | undefined;

  add(name: string, stats: Partial<GuestMemoryStats> = {}): void {
    this.guests.set(name, {
      info: { id: `id-${name}`, name, uuid: `uuid-${name}`, pid: null },
      stats: guestStats(stats),
    });
  }
  async listGuests(): Promise<GuestInfo[]> {
    return [...this.guests.values()].map((g) => g.info);
  }
  async guestStats(ids: readonly string[]): Promise<Map<string, GuestMemoryStats | HypervisorError>> {
    const out = new Map<string, GuestMemoryStats | HypervisorError>();
    for (const id of ids) {
      const g = [...this.guests.values()].find((x) => x.info.id === id);
      out.set(id, g ? g.stats : new HypervisorError('guest-gone', `${id} is gone`));
    }
    return out;
  }
  async setBalloonTarget(id: string, kib: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    if (![...this.guests.values()].some((g) => g.info.id === id))
      throw new HypervisorError('guest-gone', `${id} is gone`);
    this.calls.push({ id, kib });
  }
  async close(): Promise<void> {}
}

export class FakeHost implements HostSource {
  readonly name = 'fake-host';
  mem: HostMemory = {
    total: 16777216,
    free: 2000000,
    cached: 1000000,
    available: 3000000,
    anon: 10000000,
    swapTotal: 0,
    swapFree: 0,
    swapInPages: 0,
    swapOutPages: 0,
    cpuCount: 4,
  };
  ksmState: KsmState | null = {
    run: 0,
    pagesToScan: 100,
    sleepMillisecs: 20,
    mergeAcrossNodes: 1,
    pagesShared: 0,
    pagesSharing: 0,
    pagesUnshared: 0,
    pagesVolatile: 0,
    fullScans: 0,
  };
  readonly ksmWrites: Array<Partial<KsmSettings>> = [];
  async memory(): Promise<HostMemory> {
    return this.mem;
  }
  async ksm(): Promise<KsmState | null> {
    return this.ksmState;
  }
  async pressure(): Promise<null> {
    return null;
  }
  async ksmShareable(): Promise<number> {
    return 8000000;
  }
  async ksmdCpuUsage(): Promise<number | null> {
    return 0;
  }
  async setKsm(settings: Partial<KsmSettings>): Promise<void> {
    this.ksmWrites.push(settings);
  }
}
