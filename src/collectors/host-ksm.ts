// Host KSM state (kernel doc admin-guide/mm/ksm), named as MOM's HostKSM collector names it, plus
// ksm_shareable: the memory of guest processes KSM could merge (KiB).
import type { HostCollectorSpec } from './collector.js';

export const hostKsm: HostCollectorSpec = {
  name: 'HostKSM',
  scope: 'host',
  fields: {
    ksm_run: { unit: 'enum', help: '0 stopped, 1 running, 2 unmerge all' },
    ksm_pages_to_scan: { unit: 'pages', help: 'pages ksmd scans per wake-up' },
    ksm_sleep_millisecs: { unit: 'ms', help: 'ksmd sleep between scans' },
    ksm_pages_shared: { unit: 'pages', help: 'shared pages in use' },
    ksm_pages_sharing: { unit: 'pages', help: 'sites sharing them (how much is saved)' },
    ksm_pages_unshared: { unit: 'pages', help: 'unique pages checked repeatedly' },
    ksm_pages_volatile: { unit: 'pages', help: 'pages changing too fast to merge' },
    ksm_full_scans: { unit: 'count', help: 'full scans of all mergeable areas' },
    ksm_shareable: { unit: 'KiB', help: 'memory of guest processes (what KSM could merge)' },
  },
  optionalFields: {
    ksm_merge_across_nodes: { unit: 'bool', help: 'whether pages of different NUMA nodes may merge' },
    ksmd_cpu_usage: { unit: 'percent', help: "ksmd's CPU use since the last sample" },
  },
  create: ({ host }) => ({
    async collect(signal) {
      const k = await host.ksm(signal);
      if (k === null) throw new Error('KSM is not available on this host (kernel without CONFIG_KSM)');
      return {
        ksm_run: k.run,
        ksm_pages_to_scan: k.pagesToScan,
        ksm_sleep_millisecs: k.sleepMillisecs,
        ksm_pages_shared: k.pagesShared,
        ksm_pages_sharing: k.pagesSharing,
        ksm_pages_unshared: k.pagesUnshared,
        ksm_pages_volatile: k.pagesVolatile,
        ksm_full_scans: k.fullScans,
        ksm_merge_across_nodes: k.mergeAcrossNodes,
        ksm_shareable: await host.ksmShareable(signal),
        ksmd_cpu_usage: await host.ksmdCpuUsage(signal),
      };
    },
  }),
};
