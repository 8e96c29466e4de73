import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyEngine } from '../engine/policy-engine.js';
import { type IoTuneDisk, NO_IO_LIMITS } from '../fields/io-tune.js';
import { controlsOf, parseSnapshot, type Snapshot } from './snapshot.js';

const unlimited = NO_IO_LIMITS;

const vda: IoTuneDisk = {
  name: 'vda',
  path: '/images/web1.qcow2',
  guaranteed: { total_bytes_sec: 1_000_000 },
  maximum: {
    total_bytes_sec: 0,
    read_bytes_sec: 5_000_000,
    write_bytes_sec: 2_000_000,
    total_iops_sec: 0,
    read_iops_sec: 400,
    write_iops_sec: 200,
  },
  current: unlimited,
};
// oVirt writes only the keys it has: this disk's maximum lacks the iops ones.
const vdb: IoTuneDisk = {
  name: 'vdb',
  path: null,
  guaranteed: {},
  maximum: { total_bytes_sec: 10_000_000 },
  current: { ...unlimited, total_iops_sec: 300 },
};

/** A snapshot file's content with one guest holding ioTune, read as momd reads a snapshot file. */
function snapshot(ioTune: unknown): Snapshot {
  const json = {
    fields: { host: [], guest: ['io_tune'] },
    host: { properties: {}, stats: [{}] },
    guests: [{ properties: { name: 'web1' }, stats: [{ io_tune: ioTune }] }],
  };
  return parseSnapshot(JSON.parse(JSON.stringify(json)), 'io.json');
}

function run(text: string, ioTune: unknown) {
  const engine = new PolicyEngine(() => {});
  const loaded = engine.load([{ file: 'io.policy', text }]);
  assert.ok(loaded.ok, JSON.stringify(loaded));
  return engine.evaluate(snapshot(ioTune));
}

// In the style of vdsm's 05-iotune (our own text): every disk to its maximum with MOM's setters.
const TO_MAXIMUM = `
(def to_maximum (guest) {
  (with guest.io_tune tune {
    (defvar top tune.maximum)
    (tune.setTotalBytesSec top.total_bytes_sec)
    (tune.setReadBytesSec top.read_bytes_sec)
    (tune.setWriteBytesSec top.write_bytes_sec)
    (tune.setTotalIopsSec top.total_iops_sec)
    (tune.setReadIopsSec top.read_iops_sec)
    (tune.setWriteIopsSec top.write_iops_sec)
  })
})
(with Guests guest (if (valid guest.io_tune) (to_maximum guest) 0))
`;

test("MOM's setters on io_tune entries make the guest's io_tune control, each disk with its wished limits", () => {
  const r = run(TO_MAXIMUM, [vda, vdb]);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(controlsOf(r.entities).guests['web1'], {
    io_tune: [
      {
        name: 'vda',
        path: '/images/web1.qcow2',
        ioTune: {
          total_bytes_sec: 0,
          read_bytes_sec: 5_000_000,
          write_bytes_sec: 2_000_000,
          total_iops_sec: 0,
          read_iops_sec: 400,
          write_iops_sec: 200,
        },
      },
      {
        name: 'vdb',
        path: null,
        // The keys vdb's maximum lacks read as nil and are set to nil: "leave as it is".
        ioTune: {
          total_bytes_sec: 10_000_000,
          read_bytes_sec: null,
          write_bytes_sec: null,
          total_iops_sec: null,
          read_iops_sec: null,
          write_iops_sec: null,
        },
      },
    ],
  });
});

test('a disk whose maximum lacks a key does not fail the evaluation (MOM would); entries show name, path and limits', () => {
  const r = run(
    `(with Guests g (with g.io_tune t {
       (defvar low t.guaranteed) (defvar top t.maximum) (defvar now t.current)
       (debug t.name t.path low.total_bytes_sec top.read_iops_sec now.total_iops_sec)
       (if (== nil top.write_iops_sec) 0 (debug "never"))
     }))`,
    [vdb],
  );
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.entities.guests[0]?.controls.size, 0, 'reading sets no control');
});

test('io_tune is nil when the guest has none or it is malformed; (valid ...) guards it', () => {
  for (const value of [null, [{ name: 'vda' }], [vda, { name: 'vdb', current: { total_bytes_sec: -1 } }]]) {
    const r = run(TO_MAXIMUM, value);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepEqual(controlsOf(r.entities).guests, {}, JSON.stringify(value));
  }
  const empty = run(TO_MAXIMUM, []);
  assert.ok(empty.ok);
  assert.deepEqual(controlsOf(empty.entities).guests, {}, 'a guest without disks: nothing to set');
});

test('a setter takes a number or nil, truncated toward zero; anything else is a policy error', () => {
  const ok = run('(with Guests g (with g.io_tune t (t.setReadIopsSec 99.9)))', [vda]);
  assert.ok(ok.ok);
  const tune = controlsOf(ok.entities).guests['web1']?.['io_tune'];
  assert.deepEqual((tune as Array<{ ioTune: Record<string, unknown> }>)[0]?.ioTune['read_iops_sec'], 99);
  const bad = run('(with Guests g (with g.io_tune t (t.setReadIopsSec "fast")))', [vda]);
  assert.ok(!bad.ok);
  assert.match(bad.error.message, /setReadIopsSec expects a number or nil, got string/);
});

test('a setter read as a value works as the call does; a wrong count of arguments is an error there too', () => {
  const viaValue = run('(with Guests g (with g.io_tune t { (defvar f t.setReadIopsSec) (f 7) }))', [vda]);
  assert.ok(viaValue.ok, viaValue.ok ? '' : viaValue.error.message);
  const tune = controlsOf(viaValue.entities).guests['web1']?.['io_tune'];
  assert.equal((tune as Array<{ ioTune: Record<string, unknown> }>)[0]?.ioTune['read_iops_sec'], 7);
  const bad = run('(with Guests g (with g.io_tune t (t.setReadIopsSec 1 2)))', [vda]);
  assert.ok(!bad.ok);
  assert.match(bad.error.message, /'IoTune.setReadIopsSec' expects 1 argument, got 2/);
  assert.equal(bad.error.span.line, 1);
});
