import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { configuredFields, Monitor } from './monitors.js';

test('each sample is its own object holding every configured field, in order, built from the reading', () => {
  const fields = configuredFields('guest', ['GuestBalloon', 'GuestMemory']);
  const log = pino({ level: 'silent' });
  const a = new Monitor('Guest(a)', fields, 5, log, 'MOM_W_GUEST_NOT_READY');
  const b = new Monitor('Guest(b)', fields, 5, log, 'MOM_W_GUEST_NOT_READY');
  const reading = Object.fromEntries(fields.map(([name], i) => [name, i + 1]));
  const first = a.record(reading, 10);
  const second = a.record({ ...reading, balloon_cur: 999 }, 20);
  const other = b.record({ ...reading, balloon_cur: 5 }, 10);
  assert.ok(first !== null && second !== null && other !== null);
  assert.deepEqual(
    Object.keys(first),
    fields.map(([name]) => name),
  );
  assert.notEqual(first, second);
  assert.equal(first['balloon_cur'], reading['balloon_cur']);
  assert.equal(second['balloon_cur'], 999);
  assert.equal(other['balloon_cur'], 5);
  const missing = a.record({}, 30);
  assert.equal(missing, null, 'a reading without the mandatory fields is no sample');
  const third = a.record(reading, 40);
  assert.ok(third !== null);
  assert.equal(
    third['balloon_cur'],
    reading['balloon_cur'],
    'nothing of an earlier sample leaks into a later one',
  );
});
