// Memory pressure stall information (kernel doc accounting/psi): the share of the last 10 s in
// which some / all tasks waited for memory. Optional: a kernel without PSI gives nulls.
import type { HostCollectorSpec } from './collector.js';

export const hostPressure: HostCollectorSpec = {
  name: 'HostPressure',
  scope: 'host',
  fields: {},
  optionalFields: {
    mem_pressure_some: { unit: 'percent', help: 'PSI memory some avg10' },
    mem_pressure_full: { unit: 'percent', help: 'PSI memory full avg10' },
  },
  create: ({ host }) => ({
    async collect(signal) {
      const p = await host.pressure(signal);
      return { mem_pressure_some: p?.some10 ?? null, mem_pressure_full: p?.full10 ?? null };
    },
  }),
};
