import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyEngine } from './policy-engine.js';
import type { Snapshot } from '../entities/snapshot.js';

const empty: Snapshot = { host: { properties: {}, stats: [{}] }, guests: [] };

test('debug_enabled tells the policy whether its debug output is shown, asked at each evaluation', () => {
  const lines: string[] = [];
  let shown = false;
  const engine = new PolicyEngine(
    (m) => lines.push(m),
    () => shown,
  );
  const loaded = engine.load([
    { file: 'd.policy', text: '(if debug_enabled (debug "seen" 1) nil)\n(Host.SetVar "was" debug_enabled)' },
  ]);
  assert.ok(loaded.ok);
  const quiet = engine.evaluate(empty);
  assert.ok(quiet.ok);
  assert.deepEqual(lines, []);
  assert.equal(quiet.entities.host.variables.get('was'), false);
  shown = true;
  const loud = engine.evaluate(empty);
  assert.ok(loud.ok);
  assert.deepEqual(lines, ['seen 1']);
  assert.equal(loud.entities.host.variables.get('was'), true);
});

test('without a say, debug output counts as shown (momctl prints it)', () => {
  const engine = new PolicyEngine(() => {});
  assert.ok(engine.load([{ file: 'd.policy', text: '(Host.SetVar "was" debug_enabled)' }]).ok);
  const r = engine.evaluate(empty);
  assert.ok(r.ok);
  assert.equal(r.entities.host.variables.get('was'), true);
});
