// Memory pressure stall information (kernel doc accounting/psi): the share of the last 10 s in
// which some / all tasks waited for memory. Optional: a kernel without PSI gives nulls.
import type { HostCollectorSpec } from './collector.js';

export const hostPressure: HostCollectorSpec = {
  name: 'HostPressure',
  scope: 'host',
  fields: {},
  optionalFields: {
    psi_some_avg10: { unit: 'percent', help: 'PSI memory some avg10' },
    psi_full_avg10: { unit: 'percent', help: 'PSI memory full avg10' },
  },
  create: ({ host }) => ({
    async collect(signal) {
      const p = await host.pressure(signal);
      return { psi_some_avg10: p?.some10 ?? null, psi_full_avg10: p?.full10 ?? null };
    },
  }),
};
