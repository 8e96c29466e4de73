// The balloon's size and bounds (KiB), named as MOM's GuestBalloon collector names them, and
// whether it is stuck (engine state from the BalloonWatch).
import type { GuestCollectorSpec } from './collector.js';

export const guestBalloon: GuestCollectorSpec = {
  name: 'GuestBalloon',
  scope: 'guest',
  fields: {
    balloon_cur: { unit: 'KiB', help: 'current balloon size: memory the guest has now' },
    balloon_max: { unit: 'KiB', help: 'maximum memory of the guest' },
  },
  optionalFields: {
    balloon_min: { unit: 'KiB', help: 'floor the balloon must not go below (0 when none is configured)' },
    balloon_stuck: { unit: 'bool', help: '1 when the balloon has not moved toward its target in time' },
  },
  create: ({ balloonWatch }) => ({
    collect: (guest, s) => ({
      balloon_cur: s.balloon_cur,
      balloon_max: s.balloon_max,
      // MOM's policies compare against balloon_min: a backend that knows no floor gives 0.
      balloon_min: s.balloon_min ?? (s.balloon_cur === null ? null : 0),
      balloon_stuck: balloonWatch ? balloonWatch.observe(guest.id, guest.name, s.balloon_cur) : 0,
    }),
  }),
};
