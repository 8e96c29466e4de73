// Moves each guest's balloon toward the policy's balloon_target (KiB). Level-based: the target and
// the balloon's actual size (balloon_cur) come from the same snapshot each cycle, so a balloon put
// back behind momd's back (a guest reboot, QEMU restarted, another tool) is moved again at the
// next cycle. A target already sent is sent again only while the balloon does not move toward
// it, after a back-off that doubles each time (10 s, 20 s, ... up to 320 s), so a guest without a
// balloon driver is not asked every cycle. A guest whose memory statistics are older than
// STALE_STATS_S (paused, hung, or its balloon driver stopped reporting) is never shrunk: the
// policy judged it on data that no longer describes it. Growing it is still done: that is safe.
import { HypervisorError, MIN_BALLOON_KIB } from '../hypervisors/hypervisor.js';
import {
  controlInteger,
  joinReasons,
  missingCapability,
  numberOrNull,
  type Controller,
  type Outcome,
} from './controller.js';

/** A balloon within this of its target is at the target (QEMU moves it in 4 KiB pages). */
export const BALLOON_DEAD_BAND_KIB = 1024;
const BACKOFF_BASE_S = 10;
const BACKOFF_MAX_S = 320;
/**
 * Statistics older than this are stale: both backends ask the guest for them every 2 s, so this
 * is five missed refreshes (libvirt's backend uses the same bound to notice unpolled guests).
 */
export const STALE_STATS_S = 10;
/** Clocks tick in whole intervals; a re-send due "now" must not wait for a rounding error. */
const CLOCK_SLACK_S = 0.5;

/** Seconds to wait, after the latest send or movement, before sending the same target again. */
export function balloonBackoffS(resends: number): number {
  return Math.min(BACKOFF_BASE_S * 2 ** resends, BACKOFF_MAX_S);
}

export function createBalloonController(): Controller {
  const controller: Controller = {
    name: 'Balloon',
    controls: ['balloon_target'],
    needs: { guest: ['balloon_cur', 'balloon_max'] },
    requires: { hypervisor: ['balloon'] },
    async reconcile(ctx) {
      const { entities, hypervisor, signal, now } = ctx;
      const cannot = missingCapability(controller, ctx.capabilities);
      const outcomes: Outcome[] = [];
      for (const guest of entities.guests) {
        if (!guest.controls.has('balloon_target')) continue;
        const name = String(guest.properties['name']);
        const base = { controller: 'Balloon', entity: name, control: 'balloon_target' } as const;
        const cur = numberOrNull(guest.getAttribute('balloon_cur'));
        const raw = controlInteger(guest.controls.get('balloon_target') ?? null);
        const info = ctx.guests.get(name);
        if (typeof raw === 'string') {
          outcomes.push({
            ...base,
            outcome: 'failed',
            old: cur,
            new: null,
            reason: `balloon_target: ${raw}`,
          });
          continue;
        }
        const skip = (reason: string): void => {
          outcomes.push({ ...base, outcome: 'skipped', old: cur, new: raw, reason });
        };
        if (cannot !== undefined) {
          skip(cannot);
          continue;
        }
        if (info === undefined) {
          skip('guest gone');
          continue;
        }
        if (numberOrNull(guest.getAttribute('balloon_opt_out')) === 1) {
          skip('opted out of ballooning by the configuration');
          continue;
        }
        if (cur === null) {
          skip('balloon size unknown');
          continue;
        }
        const max = numberOrNull(guest.getAttribute('balloon_max'));
        const min = Math.max(numberOrNull(guest.getAttribute('balloon_min')) ?? 0, MIN_BALLOON_KIB);
        const desired = Math.min(Math.max(raw, min), max ?? Infinity);
        const clamped = desired !== raw ? `clamped from ${raw} to [${min}, ${max ?? '∞'}]` : undefined;
        const why = guest.reasons.get('balloon_target');
        if (Math.abs(desired - cur) <= BALLOON_DEAD_BAND_KIB) {
          outcomes.push({ ...base, outcome: 'unchanged', old: cur, new: desired, desired });
          continue;
        }
        const age = numberOrNull(guest.getAttribute('stats_age_s'));
        if (desired < cur && age !== null && age > STALE_STATS_S) {
          outcomes.push({
            ...base,
            outcome: 'skipped',
            old: cur,
            new: desired,
            desired,
            // The same words every cycle, so the log says it once, not every cycle.
            reason: `held: the guest's memory statistics are stale (none for over ${STALE_STATS_S} s); not shrunk on stale data`,
          });
          continue;
        }
        const prev = ctx.previous(name, 'balloon_target');
        let reason = joinReasons(why, clamped);
        if (prev !== undefined && prev.desired === desired && prev.sentAt !== null) {
          // Sent already and the balloon is not there. Moved away from it (a guest reboot, QEMU
          // restarted, another tool): send again now. Otherwise wait while it moves, then back off.
          const disturbed = prev.disturbedAt !== null && prev.disturbedAt >= prev.sentAt;
          const since = Math.max(prev.sentAt, prev.movedAt ?? -Infinity);
          const wait = balloonBackoffS(prev.resends);
          if (!disturbed && now - since < wait - CLOCK_SLACK_S) {
            const moving = prev.movedAt !== null && prev.movedAt > prev.sentAt;
            outcomes.push({
              ...base,
              outcome: 'unchanged',
              old: cur,
              new: desired,
              desired,
              reason: moving
                ? 'the balloon is moving toward the target'
                : `the balloon has not reached the target; sent again in ${Math.ceil(since + wait - now)} s`,
            });
            continue;
          }
          reason = joinReasons(
            why,
            disturbed
              ? `sent again: the balloon was moved back to ${cur} behind momd's back`
              : `sent again: the balloon is at ${cur}, not ${prev.sent ?? desired}`,
          );
        }
        try {
          const applied = await hypervisor.setBalloonTarget(info.id, desired, signal);
          outcomes.push({
            ...base,
            outcome: 'applied',
            old: cur,
            new: applied,
            desired,
            ...(reason !== undefined ? { reason } : {}),
          });
        } catch (err) {
          if (!(err instanceof HypervisorError)) throw err;
          outcomes.push({
            ...base,
            outcome: err.code === 'MOM_E_GUEST_GONE' ? 'skipped' : 'failed',
            old: cur,
            new: desired,
            desired,
            reason: `${err.code}: ${err.message}`,
          });
        }
      }
      return outcomes;
    },
  };
  return controller;
}
