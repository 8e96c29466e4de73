// A guest's own view of its memory, from the balloon driver's statistics (virtio-balloon stats
// through the hypervisor's bulk call), named as MOM's GuestMemory collector names it.
import { CounterDelta, type GuestCollectorSpec } from './collector.js';

export const guestMemory: GuestCollectorSpec = {
  name: 'GuestMemory',
  scope: 'guest',
  // Optional, unlike MOM: a guest whose balloon driver reports nothing (not loaded, frozen) stays in
  // Guests with nil statistics, so that a policy can see it and balloon_stuck can mark it.
  fields: {},
  optionalFields: {
    mem_available: { unit: 'KiB', help: 'total memory the guest kernel sees' },
    mem_unused: { unit: 'KiB', help: 'memory the guest kernel leaves unused' },
    mem_cache: { unit: 'KiB', help: 'guest disk caches (page cache reclaimable without I/O)' },
    mem_usable: { unit: 'KiB', help: 'memory the guest can use without swapping (its MemAvailable)' },
    stats_age_s: { unit: 's', help: 'seconds since the guest last refreshed its statistics' },
    major_fault: { unit: 'count', help: 'major faults since the last sample' },
    minor_fault: { unit: 'count', help: 'minor faults since the last sample' },
    swap_in: { unit: 'pages', help: 'pages the guest swapped in since the last sample' },
    swap_out: { unit: 'pages', help: 'pages the guest swapped out since the last sample' },
    swap_total: { unit: 'KiB', help: 'guest swap size' },
    swap_usage: { unit: 'KiB', help: 'guest swap in use' },
  },
  create: () => {
    const major = new CounterDelta();
    const minor = new CounterDelta();
    const swapIn = new CounterDelta();
    const swapOut = new CounterDelta();
    return {
      collect: (_guest, s) => ({
        mem_available: s.mem_available,
        mem_unused: s.mem_unused,
        mem_cache: s.mem_cache,
        mem_usable: s.mem_usable,
        stats_age_s: s.stats_age_s,
        major_fault: major.next(s.major_fault),
        minor_fault: minor.next(s.minor_fault),
        swap_in: swapIn.next(s.swap_in),
        swap_out: swapOut.next(s.swap_out),
        swap_total: s.swap_total,
        swap_usage: s.swap_usage,
      }),
    };
  },
};
