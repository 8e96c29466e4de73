import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPolicySet, strictCheckPolicySet } from './index.js';
import type { ScopeFields, Vocabulary } from './vocabulary.js';

function scope(group: string, known: string[], configured = known): ScopeFields {
  return {
    known: new Set(known),
    configured: new Set(configured),
    collectorOf: new Map(known.map((k) => [k, group])),
  };
}

const HOST = ['mem_free', 'mem_available', 'ksm_run', 'psi_some_avg10'];
const GUEST = ['balloon_cur', 'balloon_max', 'rss'];

/** Every statistic configured; every control of every controller applied. */
const broad: Vocabulary = {
  host: scope('HostMemory', HOST),
  guest: scope('GuestBalloon', GUEST),
  controlOwners: new Map([
    ['balloon_target', 'Balloon'],
    ['ksm_run', 'KSM'],
    ['mem_limit', 'CgroupLimit'],
  ]),
  configuredControls: new Set(['balloon_target', 'ksm_run']),
  fromConfiguration: false,
};

/** A configuration without PSI, rss, KSM nor CgroupLimit. */
const narrow: Vocabulary = {
  ...broad,
  host: scope('HostMemory', HOST, ['mem_free', 'mem_available']),
  guest: { ...scope('GuestBalloon', GUEST, ['balloon_cur', 'balloon_max']) },
  configuredControls: new Set(['balloon_target']),
  fromConfiguration: true,
};

function check(src: string, vocabulary: Vocabulary = broad, globals: string[] = []): string[] {
  const loaded = loadPolicySet([{ file: 'l.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  return strictCheckPolicySet(loaded.set, vocabulary, globals).map(
    (e) => `${e.span.line}:${e.span.col} ${e.severity}: ${e.message}`,
  );
}

test('a policy using only known names is clean', () => {
  assert.deepEqual(
    check(
      '(defvar t 0.2)\n(def shrink (g) (g.Control "balloon_target" (* g.balloon_cur (- 1 t))))\n' +
        '(with Guests g (if (< (/ Host.mem_free Host.mem_available) t) (shrink g) nil))\n' +
        '(Host.Control "ksm_run" (Host.StatAvg "ksm_run"))',
    ),
    [],
  );
});

test('a variable no form binds is a warning, with the nearest defined name', () => {
  assert.deepEqual(check('(defvar threshold 1)\n(+ treshold nosuch)\n(nope.x 1)'), [
    "2:4 warning: Variable 'treshold' is never defined: no defvar, set, let, with or parameter binds it; did you mean 'threshold'?",
    "2:13 warning: Variable 'nosuch' is never defined: no defvar, set, let, with or parameter binds it.",
    "3:2 warning: Variable 'nope' is never defined: no defvar, set, let, with or parameter binds it.",
  ]);
});

test('every way of binding counts, wherever it is, and so do globals and --env names', () => {
  assert.deepEqual(
    check(
      '(def f (p) (+ p late))\n(let ((l 1)) l)\n(with Guests g g)\n(set s 1) s\n(defvar late 2)\n' +
        '(abs Host.mem_free) debug f nil envname',
      broad,
      ['envname'],
    ),
    [],
  );
});

test('a misspelt method on the host, a guest, a parameter, or an entity of unknown kind', () => {
  assert.deepEqual(
    check(
      '(Host.Stats "mem_free")\n(with Guests g (g.Contrl "balloon_target" 1))\n' +
        '(def f (e) (e.SetVr "a" 1))\n(f Host)\n(def h () (guest.GetControll "x"))\n(with Guests guest (h))',
    ),
    [
      "1:2 error: Host has no method 'Stats'; did you mean 'Stat'?",
      "2:17 error: A guest has no method 'Contrl'; did you mean 'Control'?",
      "3:13 error: Host has no method 'SetVr'; did you mean 'SetVar'?",
      "5:12 error: Entities have no method 'GetControll'; did you mean 'GetControl'?",
    ],
  );
});

test('an unknown method far from any name is only judged where the kind is known', () => {
  assert.deepEqual(check('(Host.Frobnicate 1)\n(defvar cfg 1)\n(cfg.Frobnicate 1)'), [
    "1:2 error: Host has no method 'Frobnicate' (the methods are Prop, Stat, StatAvg, SetVar, GetVar, Control, GetControl).",
  ]);
});

test('a dotted call that names a def, or a statistic, is not a method problem here', () => {
  assert.deepEqual(check('(def Host.helper () 1)\n(Host.helper)\n(Host.mem_free)'), []);
});

test('an unknown statistic: an attribute, or the name given to Stat and StatAvg', () => {
  assert.deepEqual(
    check(
      '(with Guests g {g.balloon_curr (g.Stat "balloon_mx") (g.StatAvg "psi_some_avg10")})\n' +
        'Host.mem_fre\n(Host.StatAvg "rss")\n(def f (x) (x.Stat "nothing_like_it")) (defvar v 1) (f v)',
    ),
    [
      "1:17 error: A guest has no statistic 'balloon_curr'; did you mean 'balloon_cur'?",
      "1:40 error: A guest has no statistic 'balloon_mx'; did you mean 'balloon_max'?",
      "1:65 error: A guest has no statistic 'psi_some_avg10' (it is a statistic of Host).",
      "2:1 error: Host has no statistic 'mem_fre'; did you mean 'mem_free'?",
      "3:15 error: Host has no statistic 'rss' (it is a statistic of guests).",
      "4:20 error: No entity has a statistic 'nothing_like_it'.",
    ],
  );
});

test('attributes of names of unknown kind are never judged (they may be --env objects)', () => {
  assert.deepEqual(check('(defvar n 1)\nn.balloon_curr\n(def f (g) g.balloon_curr)\n(f n)', broad, []), []);
});

test('nor an attribute that MOM may find further out, on an object another binding gives the name', () => {
  // In f, g is a guest without 'limit', so MOM goes on to the global g: the --env object.
  assert.deepEqual(check('(def f (g) g.limit)\n(with Guests x (f x))', broad, ['g']), []);
  assert.deepEqual(check('(def f (g) g.limit)\n(with Guests x (f x))', broad, []), [
    "1:12 error: A guest has no statistic 'limit'.",
  ]);
});

test('a known statistic no configured collector fills is a warning: it is always nil', () => {
  assert.deepEqual(check('Host.psi_some_avg10\n(with Guests g (g.StatAvg "rss"))', narrow), [
    "1:1 warning: Statistic 'psi_some_avg10' comes from the collector HostMemory, which the configuration does not list: it is always nil.",
    "2:27 warning: Statistic 'rss' comes from the collector GuestBalloon, which the configuration does not list: it is always nil.",
  ]);
});

test('a control no controller applies, or none of the configured ones, is a warning', () => {
  const src =
    '(with Guests g {(g.Control "baloon_target" 1) (g.Control "mem_limit" 1) (g.Control "frob" 1)})\n' +
    '(Host.Control "ksm_run" 1)';
  assert.deepEqual(check(src), [
    "1:28 warning: No controller applies the control 'baloon_target'; did you mean 'balloon_target'?",
    "1:84 warning: No controller applies the control 'frob': setting it does nothing.",
  ]);
  assert.deepEqual(check(src, narrow), [
    "1:28 warning: No controller applies the control 'baloon_target'; did you mean 'balloon_target'?",
    "1:58 warning: No configured controller applies the control 'mem_limit': setting it does nothing (add CgroupLimit to controllers).",
    "1:84 warning: No controller applies the control 'frob': setting it does nothing.",
    "2:15 warning: No configured controller applies the control 'ksm_run': setting it does nothing (add KSM to controllers).",
  ]);
});

test('the static checks come first at the same place, and everything is in position order', () => {
  assert.deepEqual(check('(frob x)\n(if 1 y)'), [
    "1:2 error: Unknown function 'frob'.",
    "1:7 warning: Variable 'x' is never defined: no defvar, set, let, with or parameter binds it.",
    "2:1 error: 'if' expects 3 arguments, got 2.",
    "2:7 warning: Variable 'y' is never defined: no defvar, set, let, with or parameter binds it.",
  ]);
});
