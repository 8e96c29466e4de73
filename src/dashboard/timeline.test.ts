import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineEvents } from '../engine/events.js';
import type { CycleReport } from '../engine/cycle.js';
import { GUEST_SERIES, HOST_SERIES } from './series.js';
import { Timeline, timelineCapacity, type TimelinePoint } from './timeline.js';

const host = (free: number) => ({
  mem_total: 4096,
  mem_unused: free,
  mem_cached: 1000,
  swap_usage: 10,
  psi_some_avg10: 1.5,
});

function cycle(events: EngineEvents, at: number): void {
  events.emit('cycle', {
    status: 'skipped',
    reason: 'test',
    at,
    durationMs: 1,
    dryRun: false,
  } as unknown as CycleReport & {
    at: number;
    durationMs: number;
    dryRun: boolean;
  });
}

function setup(capacity = 3): { events: EngineEvents; timeline: Timeline; points: TimelinePoint[] } {
  const events = new EngineEvents();
  let now = 1_000;
  const timeline = new Timeline({ capacity, now: () => (now += 1000) });
  timeline.attach(events);
  const points: TimelinePoint[] = [];
  timeline.subscribe((p) => points.push(p));
  return { events, timeline, points };
}

const col = (key: string): number => HOST_SERIES.findIndex((s) => s.key === key);
const gcol = (key: string): number => GUEST_SERIES.findIndex((s) => s.key === key);

test('a point per cycle with the latest samples; used = total - free - cache', () => {
  const { events, timeline, points } = setup();
  events.emit('collection', { scope: 'host', entity: 'host', at: 5, sample: host(2000) });
  events.emit('collection', {
    scope: 'guest',
    entity: 'web',
    at: 5,
    sample: { balloon_cur: 512, mem_usable: 100 },
  });
  cycle(events, 5);
  assert.equal(points.length, 1);
  const p = points[0]!;
  assert.equal(p.seq, 0);
  assert.equal(p.at, 5);
  assert.equal(p.host[col('mem_used')], 4096 - 2000 - 1000);
  assert.equal(p.host[col('psi_some_avg10')], 1.5);
  assert.equal(p.host[col('ksm_pages_shared')], null, 'absent from the sample: null');
  assert.equal(p.guests['web']?.[gcol('balloon_cur')], 512);
  const v = timeline.view({ guests: ['web', 'nobody'] });
  assert.equal(v.last, 0);
  assert.deepEqual(v.at, [5]);
  assert.deepEqual(v.host[col('mem_used')], [1096]);
  assert.deepEqual(v.guests['web']?.[gcol('mem_usable')], [100]);
  assert.equal(v.guests['nobody'], undefined);
  assert.deepEqual(timeline.view().guests, {}, 'no guest unless asked for');
});

test('a full ring keeps the newest points in order, and `after` gives only newer ones', () => {
  const { events, timeline } = setup(3);
  for (let i = 1; i <= 5; i++) {
    events.emit('collection', { scope: 'host', entity: 'host', at: i, sample: host(100 * i) });
    cycle(events, i);
  }
  const v = timeline.view();
  assert.equal(v.capacity, 3);
  assert.equal(v.last, 4);
  assert.deepEqual(v.at, [3, 4, 5]);
  assert.deepEqual(v.host[col('mem_unused')], [300, 400, 500]);
  assert.deepEqual(timeline.view({ after: 3 }).at, [5]);
  assert.deepEqual(timeline.view({ after: 4 }).at, []);
  // Asking from before the oldest kept gives what is kept.
  assert.deepEqual(timeline.view({ after: 0 }).at, [3, 4, 5]);
});

test('a guest that appears late has no values before; one that is gone is dropped', () => {
  const { events, timeline } = setup(4);
  cycle(events, 1);
  events.emit('collection', { scope: 'guest', entity: 'db', at: 2, sample: { balloon_cur: 7 } });
  cycle(events, 2);
  assert.deepEqual(timeline.view({ guests: ['db'] }).guests['db']?.[gcol('balloon_cur')], [null, 7]);
  events.emit('guest', { change: 'gone', entity: 'db', at: 3 });
  cycle(events, 3);
  assert.equal(timeline.view({ guests: ['db'] }).guests['db'], undefined);
});

test('an incomplete sample (null) gives nulls, not the values of an earlier cycle', () => {
  const { events, timeline } = setup();
  events.emit('collection', { scope: 'host', entity: 'host', at: 1, sample: host(500) });
  cycle(events, 1);
  events.emit('collection', { scope: 'host', entity: 'host', at: 2, sample: null });
  cycle(events, 2);
  assert.deepEqual(timeline.view().host[col('mem_unused')], [500, null]);
});

test('guests keep fewer points than the host: one every guestStride cycles, over the same span', () => {
  const events = new EngineEvents();
  const timeline = new Timeline({ capacity: 7, guestCapacity: 3, now: () => 0 });
  timeline.attach(events);
  const points: TimelinePoint[] = [];
  timeline.subscribe((p) => points.push(p));
  for (let i = 0; i < 7; i++) {
    events.emit('collection', { scope: 'guest', entity: 'db', at: i, sample: { balloon_cur: 100 + i } });
    cycle(events, i);
  }
  const v = timeline.view({ guests: ['db'] });
  assert.equal(v.guestStride, 3);
  assert.deepEqual(v.at, [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(v.guestAt, [0, 3, 6]);
  assert.deepEqual(v.guests['db']?.[gcol('balloon_cur')], [100, 103, 106]);
  // The stream carries guests on those cycles only.
  assert.deepEqual(
    points.map((p) => Object.keys(p.guests).length),
    [1, 0, 0, 1, 0, 0, 1],
  );
  assert.deepEqual(timeline.view({ after: 3, guests: ['db'] }).guestAt, [6]);
});

test('capacity: an hour at the policy interval, between 360 and 3,601 points', () => {
  assert.equal(timelineCapacity(10), 361);
  assert.equal(timelineCapacity(5), 721);
  assert.equal(timelineCapacity(1), 3601);
  assert.equal(timelineCapacity(0.1), 3601);
  assert.equal(timelineCapacity(60), 360);
  assert.throws(() => new Timeline({ capacity: 1 }), /capacity/);
  // At one-second cycles the guests keep a point every 10 cycles: an hour in 361 points.
  assert.equal(new Timeline({ capacity: timelineCapacity(1) }).view().guestStride, 10);
  assert.equal(new Timeline({ capacity: timelineCapacity(10) }).view().guestStride, 1);
});
