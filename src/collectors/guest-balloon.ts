// The balloon's size and bounds (KiB), named as MOM's GuestBalloon collector names them.
import type { GuestCollectorSpec } from './collector.js';

export const guestBalloon: GuestCollectorSpec = {
  name: 'GuestBalloon',
  scope: 'guest',
  fields: {
    balloon_cur: { unit: 'KiB', help: 'current balloon size: memory the guest has now' },
    balloon_max: { unit: 'KiB', help: 'maximum memory of the guest' },
  },
  optionalFields: {
    balloon_min: { unit: 'KiB', help: 'floor the balloon must not go below' },
  },
  create: () => ({
    collect: (_guest, s) => ({
      balloon_cur: s.balloon_cur,
      balloon_max: s.balloon_max,
      balloon_min: s.balloon_min,
    }),
  }),
};
