// The daemon's policy commands: named policies over the base set (files or an upload), in MOM's
// name order, checked before the engine gets them; a rejected one changes nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Engine } from '../engine/engine.js';
import { PolicyFiles } from '../engine/policy-files.js';
import type { PolicySource } from '../policy/index.js';
import { createDaemonCommands } from './momd-commands.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'momd-commands-'));
  const policies = join(dir, 'policies');
  writeFileSync(join(dir, 'main.policy'), '(defvar m 1)\n');
  mkdirSync(policies);
  writeFileSync(join(policies, '01-a.policy'), '(defvar a 1)\n');
  writeFileSync(join(policies, '03-c.policy'), '(defvar c 1)\n');
  const loads: { files: string[]; origin: string }[] = [];
  const engine = {
    setPolicy(sources: readonly PolicySource[], origin: 'files' | 'api' = 'files') {
      loads.push({ files: sources.map((s) => s.file.replace(`${dir}/`, '')), origin });
      return { ok: true as const, files: sources.map((s) => s.file) };
    },
  } as unknown as Engine;
  const commands = createDaemonCommands({
    engine: () => engine,
    policyFiles: () => new PolicyFiles(join(dir, 'main.policy'), policies),
    reload: () => ({ ok: true }),
    setDryRun: () => undefined,
    dryRun: () => false,
    setVerbosity: () => undefined,
  });
  return { commands, loads };
}

test("a named policy replaces its file's text or joins the set in name order, after the policy file", () => {
  const { commands, loads } = setup();
  assert.equal(commands.setNamedPolicy('02-b', '(defvar b 1)\n').ok, true);
  assert.deepEqual(loads.at(-1), {
    files: ['main.policy', 'policies/01-a.policy', 'policies/02-b.policy', 'policies/03-c.policy'],
    origin: 'api',
  });
  assert.equal(commands.setNamedPolicy('01-a', '').ok, true);
  assert.deepEqual(loads.at(-1)?.files, ['main.policy', 'policies/02-b.policy', 'policies/03-c.policy']);
});

test('a rejected named policy reaches neither the engine nor the next set', () => {
  const { commands, loads } = setup();
  const r = commands.setNamedPolicy('02-b', '(defvar b 1)\n(+ b @)\n');
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : (r.errors[0] ?? ''), /02-b\.policy:2:\d+: error/);
  assert.equal(loads.length, 0);
  assert.equal(commands.setNamedPolicy('09-z', '(defvar z 1)\n').ok, true);
  assert.deepEqual(loads.at(-1)?.files, [
    'main.policy',
    'policies/01-a.policy',
    'policies/03-c.policy',
    'policies/09-z.policy',
  ]);
});

test('an unsafe name is refused by the daemon too; resetPolicies goes back to the files', () => {
  const { commands, loads } = setup();
  assert.equal(commands.setNamedPolicy('../../etc/x', '(defvar x 1)\n').ok, false);
  assert.equal(loads.length, 0);
  commands.setPolicy([{ name: 'up.policy', text: '(defvar u 1)\n' }]);
  commands.setNamedPolicy('02-b', '(defvar b 1)\n');
  assert.deepEqual(loads.at(-1)?.files, ['up.policy', 'policies/02-b.policy']);
  assert.equal(commands.resetPolicies().ok, true);
  assert.deepEqual(loads.at(-1), {
    files: ['main.policy', 'policies/01-a.policy', 'policies/03-c.policy'],
    origin: 'files',
  });
});
