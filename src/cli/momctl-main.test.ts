import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMomctl } from './momctl-main.js';

const dir = mkdtempSync(join(tmpdir(), 'momctl-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMomctl(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const snapshot = file(
  'snap.json',
  JSON.stringify({
    host: { properties: {}, stats: [{ mem_available: 1000, mem_free: 100 }] },
    guests: [
      { properties: { name: 'a' }, stats: [{ balloon_cur: 500 }] },
      { properties: { name: 'b' }, stats: [{ balloon_cur: 300 }] },
    ],
  }),
);
const policy = file(
  'p.policy',
  '(Host.Control "ksm_run" 1)\n(with Guests g (if (> g.balloon_cur 400) (g.Control "balloon_target" (* g.balloon_cur 0.9)) 0))\n',
);

test('eval prints one JSON array; integers beyond 2^53 as strings', async () => {
  const r = await run('policy', 'eval', file('e.policy', '(+ 1 2) (/ 1 4) (<< 1 60) "s" nil (def f () 1)'));
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), [3, 0.25, '1152921504606846976', 's', null, 'f']);
});

test('eval --env defines globals; objects are read with dotted names', async () => {
  const env = file('env.json', JSON.stringify({ limit: 5, cfg: { factor: 0.5 } }));
  const r = await run('policy', 'eval', '--env', env, file('env.policy', '(* limit cfg.factor)'));
  assert.deepEqual(JSON.parse(r.out), [2.5]);
});

test('an evaluation error: exit 1, nothing on stdout, FILE:LINE:COL on stderr', async () => {
  const p = file('bad.policy', '(defvar x 1)\n(/ x 0)');
  const r = await run('policy', 'eval', p);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, `${p}:2:1: error: Division by zero.`);
});

test('a syntax error in any file of a set: exit 1, every error reported', async () => {
  const good = file('good.policy', '(defvar a 1)');
  const bad = file('two-errors.policy', '(x @)\n(y ;)');
  const r = await run('policy', 'eval', good, bad);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.deepEqual(r.err.split('\n'), [
    `${bad}:1:4: error: Unexpected character '@'.`,
    `${bad}:2:4: error: Unexpected character ';'.`,
  ]);
});

test('check: `ok` and exit 0 when clean, 1 with one line per problem', async () => {
  assert.deepEqual(await run('policy', 'check', policy), { code: 0, out: 'ok', err: '' });
  const r = await run('policy', 'check', file('chk.policy', '(if 1 2)\n(nope)'));
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err.split('\n').length, 2);
});

test('check --env: the names of the environment count as defined variables', async () => {
  const p = file('envchk.policy', '(* limit 2)');
  const r = await run('policy', 'check', p);
  assert.equal(r.code, 0);
  assert.equal(r.out, '');
  assert.match(r.err, /envchk\.policy:1:4: warning: Variable 'limit' is never defined/);
  const env = file('envchk.json', JSON.stringify({ limit: 5 }));
  assert.deepEqual(await run('policy', 'check', '--env', env, p), { code: 0, out: 'ok', err: '' });
});

test('run prints the controls set by the policy, guests by name, raw values', async () => {
  const r = await run('policy', 'run', '--snapshot', snapshot, policy);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { host: { ksm_run: 1 }, guests: { a: { balloon_target: 450 } } });
});

test('run with a runtime error prints nothing on stdout', async () => {
  const r = await run(
    'policy',
    'run',
    '--snapshot',
    snapshot,
    file('rt.policy', '(Host.Control "x" 1)\n(< nil 1)'),
  );
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /rt\.policy:2:1: error: Cannot compare nil with int using '<'\./);
});

test('a malformed snapshot is rejected naming the file and field', async () => {
  const r = await run(
    'policy',
    'run',
    '--snapshot',
    file('bad.json', '{"host": {"stats": "x"}, "guests": []}'),
    policy,
  );
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.json: host\.stats: /);
  const r2 = await run('policy', 'run', '--snapshot', file('notjson.json', '{'), policy);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /notjson\.json: invalid JSON/);
});

test('a missing policy file is a clear error', async () => {
  const r = await run('policy', 'check', join(dir, 'nope.policy'));
  assert.equal(r.code, 1);
  assert.match(r.err, /nope\.policy: cannot read policy: ENOENT/);
});

test('bench reports evaluations, median and p99', async () => {
  const r = await run('policy', 'bench', '--snapshot', snapshot, '--iterations', '25', policy);
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as { evaluations: number; median_ms: number; p99_ms: number };
  assert.equal(result.evaluations, 25);
  assert.ok(result.median_ms >= 0 && result.p99_ms >= result.median_ms);
});

test('usage errors exit 2', async () => {
  assert.equal((await run('policy', 'frobnicate')).code, 2);
  assert.equal((await run('policy', 'run', policy)).code, 2); // --snapshot missing
  assert.equal(
    (await run('policy', 'bench', '--snapshot', snapshot, '--iterations', 'zero', policy)).code,
    2,
  );
});
