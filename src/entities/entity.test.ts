import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinGlobals, evaluatePolicySet, loadPolicySet, type Value } from '../policy/index.js';
import { Entity, type Sample } from './entity.js';

function guest(history: Sample[], variables?: Map<string, Value>): Entity {
  return new Entity({
    kind: 'Guest',
    properties: { name: 'vm01', uuid: 'u-1', pid: 42 },
    fields: new Set(['balloon_cur', 'mem_unused', 'swap_in']),
    history,
    ...(variables ? { variables } : {}),
  });
}
function evalWith(g: Entity, src: string): Value[] {
  const loaded = loadPolicySet([{ file: 'g.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  const globals = builtinGlobals(() => {});
  globals.set('guest', g);
  globals.set('Guests', [g]);
  return evaluatePolicySet(loaded.set, { globals });
}

const history: Sample[] = [
  { balloon_cur: 1000, mem_unused: 100, swap_in: null },
  { balloon_cur: 2000, mem_unused: null, swap_in: null },
  { balloon_cur: 3000, mem_unused: 400 },
];

test('declared fields read the newest sample; a declared field missing from it is nil', () => {
  assert.deepEqual(evalWith(guest(history), 'guest.balloon_cur guest.swap_in'), [3000n, null]);
});

test('an undeclared field is an undefined symbol', () => {
  assert.throws(() => evalWith(guest(history), 'guest.rss'), /Undefined symbol 'guest.rss'/);
});

test('Stat gives the newest value; Stat of an undeclared field is an error', () => {
  assert.deepEqual(evalWith(guest(history), '(guest.Stat "balloon_cur")'), [3000n]);
  assert.throws(
    () => evalWith(guest(history), '(guest.Stat "rss")'),
    /'rss' is not a statistic of Guest\(vm01\)/,
  );
});

test('StatAvg is the float mean of non-nil values over the history, 0.0 when there are none', () => {
  assert.deepEqual(
    evalWith(guest(history), '(guest.StatAvg "balloon_cur") (guest.StatAvg "mem_unused")'),
    [2000, 250],
  );
  assert.deepEqual(evalWith(guest(history), '(guest.StatAvg "swap_in")'), [0]);
  assert.equal(typeof evalWith(guest(history), '(guest.StatAvg "balloon_cur")')[0], 'number');
});

test('Prop reads properties; an unknown property is an error', () => {
  assert.deepEqual(evalWith(guest(history), '(guest.Prop "name") (guest.Prop "pid")'), ['vm01', 42n]);
  assert.throws(() => evalWith(guest(history), '(guest.Prop "color")'), /has no property 'color'/);
});

test('Control: last call wins, GetControl reads it back, nil before any call', () => {
  const g = guest(history);
  const values = evalWith(
    g,
    '(guest.GetControl "balloon_target") (guest.Control "balloon_target" 5) (guest.Control "balloon_target" 6.5) (guest.GetControl "balloon_target")',
  );
  assert.deepEqual(values, [null, null, null, 6.5]);
  assert.equal(g.controls.get('balloon_target'), 6.5);
});

test('Control takes an optional reason of any number of parts (momd), kept with the control; a later call without one drops it', () => {
  const g = guest(history);
  evalWith(
    g,
    '(guest.Control "balloon_target" 5 "host short of memory (" (/ 29 3) "% free, " 7 " guests)") (guest.Control "ksm_run" 1 (+ 1 2))',
  );
  assert.equal(g.reasons.get('balloon_target'), 'host short of memory (9.7% free, 7 guests)');
  assert.equal(g.reasons.get('ksm_run'), '3');
  evalWith(g, '(guest.Control "balloon_target" 6)');
  assert.equal(g.reasons.has('balloon_target'), false);
  assert.throws(() => evalWith(g, '(guest.Control "a")'), /expects at least 2 arguments/);
});

test('SetVar/GetVar use the variables map the caller passes, so values can persist across cycles', () => {
  const vars = new Map<string, Value>();
  evalWith(guest(history, vars), '(guest.SetVar "count" 1)');
  assert.deepEqual(evalWith(guest(history, vars), '(guest.GetVar "count")'), [1n]);
  assert.deepEqual(evalWith(guest(history), '(guest.GetVar "count")'), [null]);
});

test('methods check arity and argument types', () => {
  assert.throws(() => evalWith(guest(history), '(guest.Stat)'), /'Guest.Stat' expects 1 argument, got 0/);
  assert.throws(
    () => evalWith(guest(history), '(guest.Control 1 2)'),
    /Control expects a name string, got int/,
  );
});

test('methods can be held in variables, as in MOM', () => {
  assert.deepEqual(evalWith(guest(history), '(defvar s guest.Stat) (s "balloon_cur")').at(-1), 3000n);
});

test('an entity with no samples reads every field as nil', () => {
  assert.deepEqual(evalWith(guest([]), 'guest.balloon_cur (guest.StatAvg "balloon_cur")'), [null, 0]);
});
