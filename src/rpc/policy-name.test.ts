import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policyNameOf, policyNameProblem } from './policy-name.js';

test("vdsm's policy names are accepted", () => {
  for (const ok of ['01-parameters', '02-balloon', '04-cputune', 'a.b_c', 'X'])
    assert.equal(policyNameProblem(ok), null, ok);
});

test('a name that could leave the policy directory is refused', () => {
  for (const bad of [
    '',
    '..',
    '.',
    '../x',
    '../../etc/x',
    '/etc/x',
    'a/b',
    'a\\b',
    'a\0b',
    '.hidden',
    'a b',
    'x'.repeat(101),
  ])
    assert.notEqual(policyNameProblem(bad), null, JSON.stringify(bad));
  assert.match(policyNameProblem('../../etc/x') ?? '', /slash/);
  assert.match(policyNameProblem('a\0b') ?? '', /NUL/);
});

test('the name of a policy file is its base name without .policy', () => {
  assert.equal(policyNameOf('/etc/momd/policies/02-balloon.policy'), '02-balloon');
  assert.equal(policyNameOf('main.pol'), 'main.pol');
});
