import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogue, GUEST_FIELDS, HOST_FIELDS } from '../fields/catalogue.js';
import { statisticMetric } from './names.js';

test('names come from the catalogue in base units, with the unit converted once', () => {
  const host = (f: keyof typeof HOST_FIELDS) => statisticMetric('host', f, HOST_FIELDS[f]);
  const guest = (f: keyof typeof GUEST_FIELDS) => statisticMetric('guest', f, GUEST_FIELDS[f]);
  assert.deepEqual(host('mem_free'), {
    field: 'mem_free',
    name: 'momd_host_mem_free_bytes',
    help: HOST_FIELDS.mem_free.help,
    type: 'gauge',
    factor: 1024,
  });
  assert.equal(host('swap_in_rate').name, 'momd_host_swap_in_pages_per_second');
  assert.equal(host('psi_some_avg10').name, 'momd_host_psi_some_avg10_ratio');
  assert.equal(host('psi_some_avg10').factor, 0.01);
  assert.equal(host('ksm_sleep_millisecs').name, 'momd_host_ksm_sleep_seconds');
  assert.equal(host('ksm_sleep_millisecs').factor, 1e-3);
  assert.equal(host('swap_total').name, 'momd_host_swap_total_bytes', 'a gauge keeps its _total');
  assert.equal(host('cpu_count').name, 'momd_host_cpus', "the catalogue's metric stem");
  assert.equal(guest('stats_age_s').name, 'momd_guest_stats_age_seconds');
  assert.equal(guest('major_fault_rate').name, 'momd_guest_major_fault_per_second');
  assert.equal(guest('balloon_stuck').help, `${GUEST_FIELDS.balloon_stuck.help} (1 or 0)`);
});

test('cumulative counters become _total counters counted since momd began watching', () => {
  const m = statisticMetric('host', 'psi_some_total', HOST_FIELDS.psi_some_total);
  assert.equal(m.name, 'momd_host_psi_some_seconds_total');
  assert.equal(m.type, 'counter');
  assert.equal(m.factor, 1e-6);
  const swap = statisticMetric('host', 'swap_in', HOST_FIELDS.swap_in);
  assert.equal(swap.name, 'momd_host_swap_in_pages_total');
  assert.match(swap.help, /since momd began watching/);
});

test("every name keeps Prometheus's rules: unique, snake case, no reserved or abbreviated suffix", () => {
  const names = new Set<string>();
  for (const scope of ['host', 'guest'] as const)
    for (const [field, spec] of catalogue(scope)) {
      const m = statisticMetric(scope, field, spec);
      assert.match(m.name, /^momd_(host|guest)_[a-z0-9_]+$/);
      assert.ok(!/_(count|sum|bucket)$/.test(m.name), `${m.name}: reserved suffix`);
      assert.ok(!/_(s|ms|us|kib)(_|$)/.test(m.name), `${m.name}: abbreviated unit`);
      assert.equal(m.name.endsWith('_total'), m.type === 'counter', `${m.name}: _total only on counters`);
      assert.ok(!names.has(m.name), `${m.name} twice`);
      names.add(m.name);
    }
});
