// Host memory and swap, named as MOM's HostMemory collector names them (memory in KiB):
// mem_available is MemTotal (MOM's historic naming), mem_free is what the host can free without
// I/O (MemFree + Buffers + Cached), swap_in/swap_out are pages since the last sample.
import { CounterDelta, type HostCollectorSpec } from './collector.js';

export const hostMemory: HostCollectorSpec = {
  name: 'HostMemory',
  scope: 'host',
  fields: {
    mem_available: { unit: 'KiB', help: 'total memory (MemTotal)' },
    mem_unused: { unit: 'KiB', help: 'memory not used at all (MemFree)' },
    mem_free: { unit: 'KiB', help: 'memory free or held as droppable cache (MemFree + Buffers + Cached)' },
    swap_in: { unit: 'pages', help: 'pages swapped in since the last sample (pswpin)' },
    swap_out: { unit: 'pages', help: 'pages swapped out since the last sample (pswpout)' },
    anon_pages: { unit: 'KiB', help: 'anonymous memory (AnonPages)' },
    swap_total: { unit: 'KiB', help: 'swap size (SwapTotal)' },
    swap_usage: { unit: 'KiB', help: 'swap in use (SwapTotal - SwapFree)' },
    cpu_count: { unit: 'count', help: 'host CPUs' },
    mem_total: { unit: 'KiB', help: 'total memory (MemTotal), under its plain name' },
    mem_cached: { unit: 'KiB', help: 'page cache (Buffers + Cached)' },
  },
  optionalFields: {
    mem_avail: {
      unit: 'KiB',
      help: "the kernel's estimate of memory available without swapping (MemAvailable)",
    },
  },
  create: ({ host }) => {
    const swapIn = new CounterDelta();
    const swapOut = new CounterDelta();
    return {
      async collect(signal) {
        const m = await host.memory(signal);
        return {
          mem_available: m.total,
          mem_unused: m.free,
          mem_free: m.free + m.cached,
          swap_in: swapIn.next(m.swapInPages),
          swap_out: swapOut.next(m.swapOutPages),
          anon_pages: m.anon,
          swap_total: m.swapTotal,
          swap_usage: m.swapTotal - m.swapFree,
          cpu_count: m.cpuCount,
          mem_total: m.total,
          mem_cached: m.cached,
          mem_avail: m.available,
        };
      },
    };
  },
};
