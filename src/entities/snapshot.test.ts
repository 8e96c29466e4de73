import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEntities, controlsOf, parseSnapshot, SnapshotError } from './snapshot.js';

const valid = {
  fields: { host: ['mem_free', 'mem_available'], guest: ['balloon_cur'] },
  host: { properties: { interval: 10 }, stats: [{ mem_free: 100, mem_available: 1000 }] },
  guests: [
    { properties: { name: 'vm01', uuid: 'u1', pid: 1 }, stats: [{ balloon_cur: 512 }] },
    { properties: { name: 'vm02' }, stats: [] },
  ],
};

test('a valid snapshot builds a Host and one Guest entity per guest', () => {
  const { host, guests } = buildEntities(parseSnapshot(valid, 's.json'));
  assert.equal(host.getAttribute('mem_free'), 100n);
  assert.deepEqual(
    guests.map((g) => g.label),
    ['Guest(vm01)', 'Guest(vm02)'],
  );
  assert.equal(guests[1]?.getAttribute('balloon_cur'), null);
});

test('without "fields", every key seen in any sample is declared', () => {
  const { fields: _omit, ...rest } = valid;
  const { host, guests } = buildEntities(parseSnapshot(rest, 's.json'));
  assert.equal(host.fields.has('mem_available'), true);
  assert.equal(guests[1]?.fields.has('balloon_cur'), true);
});

test('errors name the file and the path of each bad field', () => {
  const bad = {
    host: { stats: [{ mem_free: 'lots', x: { nested: 1 } }] },
    guests: [{ properties: { uuid: 'u' }, stats: [] }],
  };
  assert.throws(
    () => parseSnapshot(bad, 'bad.json'),
    (err: unknown) => {
      assert.ok(err instanceof SnapshotError);
      assert.match(err.message, /bad\.json: host\.stats\[0\]\.x: /);
      assert.match(err.message, /bad\.json: guests\[0\]\.properties\.name: /);
      return true;
    },
  );
  assert.throws(() => parseSnapshot([], 'arr.json'), /arr\.json: \(top level\)/);
});

test('controlsOf lists host controls and guests with controls by name', () => {
  const entities = buildEntities(parseSnapshot(valid, 's.json'));
  entities.host.controls.set('ksm_run', 1n);
  entities.guests[0]?.controls.set('balloon_target', 3984588.8);
  assert.deepEqual(controlsOf(entities), {
    host: { ksm_run: 1 },
    guests: { vm01: { balloon_target: 3984588.8 } },
  });
});
