import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entityReferences } from './entity-refs.js';
import { loadPolicySet } from './index.js';

/** `name@line:col kind` for every symbol found to hold an entity, in source order. */
function refs(src: string, globals: string[] = ['abs', 'debug']): string[] {
  const loaded = loadPolicySet([{ file: 'r.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  return [...entityReferences(loaded.set.program, globals).kinds]
    .sort(([a], [b]) => a.span.line - b.span.line || a.span.col - b.span.col)
    .map(([sym, kind]) => `${sym.name}@${sym.span.line}:${sym.span.col} ${kind}`);
}

test('Host is the host, and the variable of (with Guests g ...) a guest inside its body only', () => {
  assert.deepEqual(refs('Host.mem_free\n(with Guests g (g.Control "x" g.rss))\ng.rss'), [
    'Host.mem_free@1:1 host',
    'g.Control@2:17 guest',
    'g.rss@2:31 guest',
  ]);
});

test('Host and Guests are not judged when any form binds or sets them, or --env defines them', () => {
  assert.deepEqual(refs('(defvar Host 1) Host.x (with Guests g g.y)'), ['g.y@1:39 guest']);
  assert.deepEqual(refs('(def f (Host) Host.x) Host.y'), []);
  assert.deepEqual(refs('(set Guests 1) (with Guests g g.y)'), []);
  assert.deepEqual(refs('Host.x', ['Host']), []);
});

test('a loop over anything but Guests is not judged', () => {
  assert.deepEqual(refs('(defvar l 1) (with l g g.x) (with Host.list h h.y)'), ['Host.list@1:35 host']);
});

test('a name that any set assigns, or a defvar in the body could shadow, is not judged', () => {
  assert.deepEqual(refs('(with Guests g (g.x)) (def f () (set g 1))'), []);
  assert.deepEqual(refs('(with Guests g (let ((a 1)) (defvar g 2) g.x))'), []);
});

test('let and an inner with rebind the name for their body', () => {
  assert.deepEqual(refs('(with Guests g (let ((g 5)) g.x))'), []);
  assert.deepEqual(refs('(with Guests g (let ((a g.y) (g 1)) g.x))'), ['g.y@1:25 guest']);
  assert.deepEqual(refs('(defvar l 1) (with Guests g (with l g g.x))'), []);
});

test('a parameter holds what every call passes: a guest, the host, either, or the guest list', () => {
  assert.deepEqual(refs('(def f (e) e.x)\n(with Guests g (f g))'), ['e.x@1:12 guest', 'g@2:19 guest']);
  assert.deepEqual(refs('(def f (e) e.x)\n(f Host)'), ['e.x@1:12 host', 'Host@2:4 host']);
  assert.deepEqual(refs('(def f (e) e.x)\n(f Host)\n(with Guests g (f g))'), [
    'e.x@1:12 entity',
    'Host@2:4 host',
    'g@3:19 guest',
  ]);
  assert.deepEqual(refs('(def each (gs) (with gs g g.x))\n(each Guests)'), ['g.x@1:27 guest']);
});

test('through a chain of calls, found by repeating until nothing changes', () => {
  assert.deepEqual(refs('(def a (x) x.p)\n(def b (y) (a y))\n(def c (z) (b z))\n(with Guests g (c g))'), [
    'x.p@1:12 guest',
    'y@2:15 guest',
    'z@3:15 guest',
    'g@4:19 guest',
  ]);
});

test('one call passing something else, or no call at all, leaves a parameter unjudged', () => {
  assert.deepEqual(refs('(def f (e) e.x)\n(with Guests g (f g))\n(f 5)'), ['g@2:19 guest']);
  assert.deepEqual(refs('(def f (e) e.x)'), []);
  // A recursive call passes its own parameter, which is not known on the first round: unjudged.
  assert.deepEqual(refs('(def f (e n) (if n (f e 0) e.x))\n(with Guests g (f g 1))'), ['g@2:19 guest']);
});

test('an argument named like an earlier parameter is that parameter (arguments bind in order)', () => {
  assert.deepEqual(refs('(def f (a b) b.x)\n(with Guests a (f 1 a a.y))'), []);
  assert.deepEqual(refs('(def f (a b) b.x)\n(with Guests b (f b 1))'), ['b@2:19 guest']);
  // Here `a` is f's first parameter, bound to the guest g just before.
  assert.deepEqual(refs('(def f (a b) b.x)\n(with Guests g (f g a))'), [
    'b.x@1:14 guest',
    'g@2:19 guest',
    'a@2:21 guest',
  ]);
});

test('a function a variable, a form or a second def shadows is not reached by its calls', () => {
  assert.deepEqual(refs('(defvar f 1)\n(def f (e) e.x)\n(with Guests g (f g))'), ['g@3:19 guest']);
  assert.deepEqual(refs('(def f (e) e.x)\n(def f (e) e.y)\n(with Guests g (f g))'), ['g@3:19 guest']);
  assert.deepEqual(refs('(def max (e) e.x)\n(with Guests g (max g))'), ['g@2:21 guest']);
  assert.deepEqual(refs('(def f (e e) e.x)\n(with Guests g (f g g))'), ['g@2:19 guest', 'g@2:21 guest']);
});

/** The names some binding may give an object other than an entity. */
function objects(src: string, globals: string[] = []): string[] {
  const loaded = loadPolicySet([{ file: 'r.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  return [...entityReferences(loaded.set.program, globals).mayHoldObject].sort();
}

test('names some binding may give an object: values computed at run time, loop items, --env', () => {
  assert.deepEqual(
    objects(
      '(defvar n 1) (defvar s "x") (defvar h Host) (defvar e (+ 1 2)) (defvar o (Host.Prop "p"))\n' +
        '(let ((a cfg.x) (b 2)) b) (with lst i i) (with Guests g g) (set z 1)',
      ['cfg'],
    ),
    ['a', 'cfg', 'i', 'o', 'z'],
  );
});

test('a parameter may hold an object when some call passes one; never called, it holds nothing', () => {
  assert.deepEqual(objects('(def f (p) p)\n(def never (q) q)\n(defvar v 1)\n(with Guests g (f g))\n(f v)'), [
    'p',
  ]);
  assert.deepEqual(objects('(def f (p) p)\n(def f (r) r)'), ['p', 'r']);
});
