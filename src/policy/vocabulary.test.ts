import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Entity } from '../entities/entity.js';
import type { PolicyFunction } from './values.js';
import { ENTITY_METHODS } from './vocabulary.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

test('every method the check knows is a method of a real entity', () => {
  const host = new Entity({ kind: 'Host', properties: {}, fields: new Set(['mem_free']), history: [] });
  for (const name of ENTITY_METHODS) {
    const v = host.getAttribute(name) as PolicyFunction | undefined;
    assert.equal(v?.kind, 'function', name);
  }
  assert.equal(host.getAttribute('Contrl'), undefined);
});

test("the check's method list is entity.ts's list, no more and no less", () => {
  const source = readFileSync(`${repoRoot}src/entities/entity.ts`, 'utf8');
  const m = /const METHODS = \[([^\]]*)\]/.exec(source);
  assert.ok(m, 'entity.ts declares its methods as `const METHODS = [...]`');
  const names = [...(m[1] ?? '').matchAll(/'([A-Za-z]+)'/g)].map((x) => x[1]);
  assert.deepEqual([...names].sort(), [...ENTITY_METHODS].sort());
});
