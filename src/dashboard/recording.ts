// The dashboard on a recording (`momctl dashboard --recording DIR`): the recorded cycles are
// played, as fast as they are read, into the same read model and timeline a live momd fills from
// its engine's events, with the clock set to each cycle's recorded time. The page then shows the
// recorded period as it would have shown it live; nothing can be changed (the server is
// read-only) and no new event comes.
import { ReadModel } from '../api/read-model.js';
import type { Outcome } from '../controllers/controller.js';
import type { Sample } from '../entities/entity.js';
import type { Snapshot } from '../entities/snapshot.js';
import { EngineEvents } from '../engine/events.js';
import { readRecording, type ReadOptions } from '../record/reader.js';
import type { RecordedCycle, RecordedEntity } from '../record/reader.js';
import { Timeline } from './timeline.js';

/** Host points at most (a week at 30-second cycles); a longer recording shows its newest part. */
export const MAX_RECORDED_POINTS = 20_000;
/** Guest points at most; the timeline thins them over the span (see Timeline's guestStride). */
export const MAX_RECORDED_GUEST_POINTS = 2_000;

export interface OpenedRecording {
  readonly model: ReadModel;
  readonly timeline: Timeline;
  readonly cycles: number;
  /** Wall-clock time of the first and last cycle shown (ISO 8601). */
  readonly from: string;
  readonly to: string;
}

/** Reads the recording in `dir` (within from/to) into a read model and a timeline. */
export async function openRecording(
  dir: string,
  opts: ReadOptions & { readonly version: string },
): Promise<OpenedRecording> {
  // A first pass counts the cycles, so the timeline is as long as the period (up to its bound).
  let cycles = 0;
  let first: string | null = null;
  let last: string | null = null;
  for await (const { cycle } of readRecording(dir, { ...opts, onWarning: undefined })) {
    cycles++;
    first ??= cycle.time;
    last = cycle.time;
  }
  if (cycles === 0 || first === null || last === null)
    throw new RangeError(`${dir}: no recorded cycle${opts.from || opts.to ? ' in that period' : ''}`);
  const from = first;
  const to = last;
  let now = Date.parse(from);
  const clock = (): number => now;
  const events = new EngineEvents();
  const model = new ReadModel(
    {
      version: opts.version,
      pid: process.pid,
      startedAt: Date.parse(from),
      backend: () => ({ hypervisor: 'recording', folder: dir, from, to, cycles }),
    },
    { now: clock, decisions: 5000 },
  );
  model.attach(events);
  const capacity = Math.max(2, Math.min(cycles, MAX_RECORDED_POINTS));
  const timeline = new Timeline({
    capacity,
    guestCapacity: Math.max(2, Math.min(capacity, MAX_RECORDED_GUEST_POINTS)),
    now: clock,
  });
  timeline.attach(events);

  const player = new Player(events);
  for await (const { cycle } of readRecording(dir, opts)) {
    now = Date.parse(cycle.time);
    player.play(cycle);
  }
  return { model, timeline, cycles, from, to };
}

/** Turns recorded cycles back into the engine's events, keeping what a cycle line leaves out. */
class Player {
  private readonly latest = new Map<string, Sample>();
  private guests = new Set<string>();
  private policyHash: string | null = null;
  private dryRun: boolean | null = null;

  constructor(private readonly events: EngineEvents) {}

  play(c: RecordedCycle): void {
    const { events } = this;
    if (c.policyHash !== null && c.policyHash !== this.policyHash) {
      this.policyHash = c.policyHash;
      events.emit('policy', { ok: true, files: [], sources: [], hash: c.policyHash, origin: 'files' });
    }
    if (c.dryRun !== this.dryRun) {
      this.dryRun = c.dryRun;
      events.emit('settings', { dryRun: c.dryRun, verbosity: 'info' });
    }
    const host = c.host === null ? null : this.sample('\u0000host', c.host);
    if (host !== null) events.emit('collection', { scope: 'host', entity: 'host', at: c.at, sample: host });
    const now = new Set<string>();
    for (const g of c.guests) {
      const name = g.properties.name;
      now.add(name);
      if (!this.guests.has(name)) events.emit('guest', { change: 'appeared', entity: name, at: c.at });
      events.emit('collection', { scope: 'guest', entity: name, at: c.at, sample: this.sample(name, g) });
    }
    // A skipped cycle lists no guest: that says nothing about them.
    if (c.status !== 'skipped')
      for (const name of this.guests)
        if (!now.has(name)) {
          events.emit('guest', { change: 'gone', entity: name, at: c.at });
          this.latest.delete(name);
        }
    if (c.status !== 'skipped') this.guests = now;
    if (c.controls !== null) events.emit('evaluation', { ok: true, at: c.at, controls: c.controls });
    else if (c.status === 'policy-error')
      events.emit('evaluation', { ok: false, at: c.at, code: 'MOM_E_POLICY_EVAL', error: c.detail ?? '' });
    const outcomes: Outcome[] = c.outcomes.map(({ reason, ...o }) => ({
      ...o,
      ...(reason !== null ? { reason } : {}),
    }));
    for (const o of outcomes) events.emit('outcome', { ...o, at: c.at });
    const common = { at: c.at, durationMs: c.durationMs, dryRun: c.dryRun };
    if (c.status === 'skipped') {
      events.emit('cycle', { status: 'skipped', reason: c.detail ?? '', ...common });
      return;
    }
    const snapshot: Snapshot = {
      host: { properties: { ...(c.host?.properties ?? {}) }, stats: host === null ? [] : [host] },
      guests: c.guests.map((g) => {
        const s = this.latest.get(g.properties.name);
        return { properties: { ...g.properties }, stats: s === undefined ? [] : [s] };
      }),
    };
    if (c.status === 'done') events.emit('cycle', { status: 'done', outcomes, snapshot, ...common });
    else
      events.emit('cycle', {
        status: 'policy-error',
        error: c.detail ?? '',
        snapshot,
        fallback: { failures: 0, since: null },
        outcomes,
        ...common,
      });
  }

  /** The entity's newest sample: the last new one, or the one recorded before. */
  private sample(key: string, e: RecordedEntity): Sample | null {
    const s = e.samples.at(-1);
    if (s !== undefined) this.latest.set(key, s as Sample);
    return this.latest.get(key) ?? null;
  }
}
