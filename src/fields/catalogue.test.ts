import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../cli/paths.js';
import { loadConfig } from '../config/index.js';
import { catalogue, fieldsOfGroups, groupsOfCollectors, GUEST_GROUPS, HOST_GROUPS } from './catalogue.js';
import { withFieldTable } from './docs.js';

test('every field has a unit, a group of its scope and a one-line meaning', () => {
  for (const scope of ['host', 'guest'] as const) {
    const groups: readonly string[] = scope === 'host' ? HOST_GROUPS : GUEST_GROUPS;
    for (const [name, spec] of catalogue(scope)) {
      assert.match(name, /^[a-z][a-z0-9_]*$/, name);
      assert.ok(groups.includes(spec.group), `${name}: ${spec.group}`);
      assert.ok(spec.help.length > 10 && !spec.help.includes('\n'), name);
    }
  }
});

test('the mandatory fields of a sample are the balloon size (guest) and the memory fields (host)', () => {
  assert.deepEqual(fieldsOfGroups('guest', GUEST_GROUPS).mandatory, ['balloon_cur', 'balloon_max']);
  const host = fieldsOfGroups('host', ['HostKSM', 'HostPressure']);
  assert.deepEqual(host.mandatory, [], 'absence is not failure: no KSM or PSI field is mandatory');
  assert.ok(host.optional.includes('ksm_run') && host.optional.includes('psi_some_avg10'));
});

test("the config's collector names are the catalogue's groups", () => {
  const text = `[host]\ncollectors: ${HOST_GROUPS.join(', ')}\n[guest]\ncollectors: ${GUEST_GROUPS.join(', ')}\n`;
  const { config, warnings } = loadConfig({ text });
  assert.deepEqual(warnings, []);
  // In the configuration's order: HostMemory brings HostCpu along right after it.
  assert.deepEqual([...config.host.collectors].sort(), [...HOST_GROUPS].sort());
  assert.deepEqual(config.guest.collectors, [...GUEST_GROUPS]);
});

test('docs/policy-language.md shows the field tables made from the catalogue (npm run docs)', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'policy-language.md'), 'utf8');
  // Prettier may pad a table differently: compare the cells, not the spacing.
  const cells = (s: string): string => s.replace(/ +/g, ' ').replace(/-{3,}/g, '---');
  assert.equal(
    cells(withFieldTable(withFieldTable(doc, 'host'), 'guest')),
    cells(doc),
    'the field tables of docs/policy-language.md are out of date: run npm run docs',
  );
});

test("MOM's GuestQemuAgent stands for GuestMemory's fields; other names are groups; each group once", () => {
  assert.deepEqual(groupsOfCollectors(['GuestQemuProc', 'guestqemuagent', 'GuestMemory', 'GuestIoTune']), [
    'GuestQemuProc',
    'GuestMemory',
    'GuestIoTune',
  ]);
  assert.deepEqual(groupsOfCollectors(['GuestBalloon']), ['GuestBalloon']);
});
