// The guest's QEMU process as the host sees it: its resident memory (KiB).
import type { GuestCollectorSpec } from './collector.js';

export const guestQemuProc: GuestCollectorSpec = {
  name: 'GuestQemuProc',
  scope: 'guest',
  fields: {},
  optionalFields: {
    rss: { unit: 'KiB', help: 'resident memory of the QEMU process on the host' },
  },
  create: () => ({ collect: (_guest, s) => ({ rss: s.rss }) }),
};
