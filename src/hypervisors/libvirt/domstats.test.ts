import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { domainState, lastUpdate, numberField, parseDomstats, toGuestReading } from './domstats.js';

const fixtures = new URL('../../../../src/hypervisors/libvirt/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
/** When domstats-three-guests.txt was captured (Unix seconds). */
const CAPTURED_AT = 1795474751;

test('parses every domain block of real virsh 9.0 output, in output order', () => {
  const domains = parseDomstats(fixture('domstats-three-guests.txt'));
  assert.deepEqual(
    domains.map((d) => d.name),
    ['momd-probe-b', 'momd-probe-a', 'momd-probe-c'],
  );
  const [b, a, c] = domains;
  assert.ok(a && b && c);
  assert.equal(a.fields.get('balloon.current'), '250000');
  assert.equal(b.fields.size, 16);
  assert.equal(domainState(a), 1);
  assert.equal(domainState(c), 3, 'momd-probe-c was paused');
  assert.equal(lastUpdate(a), 1795474750);
  assert.equal(lastUpdate(c), null, 'last-update=0 means never');
});

test('empty output (no running domain) gives no domains', () => {
  assert.deepEqual(parseDomstats(''), []);
  assert.deepEqual(parseDomstats('\n'), []);
});

test('lines outside a Domain block and lines that are not key=value are ignored', () => {
  const [d, ...rest] = parseDomstats("  stray=1\nDomain: 'it's a vm'\n  balloon.current=5\nnoise\n\n");
  assert.equal(rest.length, 0);
  assert.equal(d?.name, "it's a vm");
  assert.deepEqual([...(d?.fields ?? [])], [['balloon.current', '5']]);
});

test('a guest with a balloon driver: every field mapped, memory in KiB as libvirt gives it', () => {
  const a = parseDomstats(fixture('domstats-three-guests.txt'))[1];
  assert.ok(a);
  assert.deepEqual(toGuestReading(a, CAPTURED_AT), {
    balloon_cur: 250000,
    balloon_max: 262144,
    balloon_min: null,
    mem_available: 198740,
    mem_unused: 171680,
    mem_cache: 2212,
    mem_usable: 174784,
    stats_age_s: 1,
    swap_in: 0,
    swap_out: 0,
    major_fault: 0,
    minor_fault: 542,
    rss: 201636,
  });
});

test('a guest without a balloon driver: the keys libvirt leaves out are null, not errors', () => {
  const c = parseDomstats(fixture('domstats-three-guests.txt'))[2];
  assert.ok(c);
  const s = toGuestReading(c, CAPTURED_AT);
  assert.equal(s.balloon_cur, 262144);
  assert.equal(s.balloon_max, 262144);
  assert.equal(s.rss, 201396);
  for (const key of [
    'mem_available',
    'mem_unused',
    'mem_cache',
    'mem_usable',
    'stats_age_s',
    'swap_in',
    'swap_out',
    'major_fault',
    'minor_fault',
  ] as const) {
    assert.equal(s[key], null, key);
  }
});

test('swap traffic: libvirt KiB become 4 KiB pages; fault counters stay counts', () => {
  const db = parseDomstats(fixture('domstats-swapping.txt'))[0];
  assert.ok(db);
  const s = toGuestReading(db, 1795474751);
  assert.equal(s.swap_in, 10240, '40960 KiB = 10240 pages');
  assert.equal(s.swap_out, 20481, '81922 KiB rounds to 20481 pages');
  assert.equal(s.major_fault, 1234);
  assert.equal(s.minor_fault, 987654);
  assert.equal(s.balloon_max, 2097152);
});

test('values that are not whole numbers, or beyond 2^53, are null, never huge numbers or NaN', () => {
  const odd = parseDomstats(fixture('domstats-swapping.txt'))[1];
  assert.ok(odd);
  const s = toGuestReading(odd, 1795474751);
  assert.equal(s.balloon_cur, 524288);
  assert.equal(s.balloon_max, null, '2^64-1');
  assert.equal(s.mem_unused, null, 'negative');
  assert.equal(s.mem_available, null, 'empty');
  assert.equal(s.mem_usable, null, 'fractional');
  assert.equal(s.stats_age_s, null, 'last-update=0');
  for (const [key, value] of Object.entries(s)) {
    assert.ok(value === null || Number.isSafeInteger(value), `${key}=${String(value)}`);
  }
  assert.equal(numberField(odd, 'balloon.nothing'), null);
});

test('stats_age_s is now minus balloon.last-update, never negative', () => {
  const db = parseDomstats(fixture('domstats-swapping.txt'))[0];
  assert.ok(db);
  assert.equal(toGuestReading(db, 1795474745).stats_age_s, 0);
  assert.equal(toGuestReading(db, 1795474765.5).stats_age_s, 20.5);
  assert.equal(toGuestReading(db, 1795474700).stats_age_s, 0, 'a clock behind the guest');
});

test('balloon_min comes from the caller; swap size is never known', () => {
  const db = parseDomstats(fixture('domstats-swapping.txt'))[0];
  assert.ok(db);
  const s = toGuestReading(db, 1795474751, 524288);
  assert.equal(s.balloon_min, 524288);
  // The virtio balloon reports swap traffic but not swap size: those keys are left out.
  assert.equal(s.swap_total, undefined);
  assert.equal(s.swap_usage, undefined);
});
