// Scenario files: built-in names, JSON and YAML, and errors that name the file and the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BUILT_IN_SCENARIOS, loadScenario, parseScenario, ScenarioError } from './scenario.js';

const dir = mkdtempSync(path.join(tmpdir(), 'momd-scenario-'));
const write = (name: string, text: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

test('loadScenario finds the built-in names in the repository', () => {
  const expected: Record<string, number> = { small: 4, 'memknobs-32': 32, 'cloudy-32': 32 };
  for (const name of BUILT_IN_SCENARIOS) {
    const sc = loadScenario(name);
    assert.equal(sc.name, name);
    assert.ok(sc.file?.endsWith(path.join('scenarios', `${name}.yaml`)));
    assert.equal(sc.guests.length, expected[name]);
  }
  const mk = loadScenario('memknobs-32');
  assert.equal(mk.host.memory_gib, 48);
  assert.deepEqual(
    mk.guests.slice(0, 2).map((g) => [g.name, g.memory_mib, g.vcpus, g.start_s]),
    [
      ['mk01', 2048, 1, 0],
      ['mk02', 2048, 1, 5],
    ],
  );
  assert.equal(loadScenario('cloudy-32').host.memory_gib, 16);
});

test('an unknown name is an error that lists the built-ins', () => {
  assert.throws(
    () => loadScenario('nope'),
    (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      assert.match(e.message, /nope: no such scenario/);
      assert.match(e.message, /memknobs-32/);
      return true;
    },
  );
});

test('JSON and YAML files load alike; defaults fill the rest', () => {
  const body = {
    duration_s: 60,
    host: { memory_gib: 4 },
    guests: [{ name: 'a', memory_mib: 512, workload: { kind: 'idle' } }],
  };
  const json = loadScenario(write('one.json', JSON.stringify(body)));
  const yaml = loadScenario(
    write(
      'one.yaml',
      'duration_s: 60\nhost:\n  memory_gib: 4\nguests:\n  - name: a\n    memory_mib: 512\n    workload: { kind: idle }\n',
    ),
  );
  assert.equal(json.name, 'one');
  assert.deepEqual({ ...json, file: null }, { ...yaml, file: null });
  assert.equal(json.host.cpus, 16);
  assert.equal(json.ksm.pages_to_scan, 100);
  assert.equal(json.guests[0]?.balloon, true);
});

test('validation errors name the file and the path of each bad field', () => {
  const file = write(
    'bad.yaml',
    [
      'duration_s: 60',
      'host:',
      '  memory_gib: 4',
      '  memory_gb: 4',
      'guests:',
      '  - name: a',
      '    memory_mib: -1',
      '    workload:',
      '      kind: memknobs',
      '      pattern: { kind: wave, min_mib: 1, max_mib: 2, period_s: "ten" }',
      '  - name: b',
      '    memory_mib: 512',
      '    workload: { kind: juggling }',
    ].join('\n'),
  );
  assert.throws(
    () => loadScenario(file),
    (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      const m = e.message;
      assert.ok(
        m.split('\n').every((line) => line.startsWith(`${file}: `)),
        m,
      );
      assert.match(m, /: host: Unrecognized key.*memory_gb/);
      assert.match(m, /: guests\[0\]\.memory_mib: /);
      assert.match(m, /: guests\[0\]\.workload\.pattern\.period_s: /);
      assert.match(m, /: guests\[1\]\.workload\.kind: /);
      return true;
    },
  );
});

test('a file that is not YAML or JSON, or cannot be read, names the file', () => {
  const broken = write('broken.json', '{ "duration_s": ');
  assert.throws(() => loadScenario(broken), new RegExp(`${broken}: not valid JSON`));
  const missing = path.join(dir, 'missing.yaml');
  assert.throws(() => loadScenario(missing), new RegExp(`${missing}: cannot read`));
});

test('groups expand into numbered guests; names must be unique; stop after start', () => {
  const base = { duration_s: 10, host: { memory_gib: 4 } };
  const sc = parseScenario(
    {
      ...base,
      guests: [{ name: 'w', count: 3, memory_mib: 256, start_step_s: 2, workload: { kind: 'idle' } }],
    },
    'g.json',
  );
  assert.deepEqual(
    sc.guests.map((g) => [g.name, g.index, g.start_s]),
    [
      ['w01', 0, 0],
      ['w02', 1, 2],
      ['w03', 2, 4],
    ],
  );
  const dup = { name: 'x', memory_mib: 256, workload: { kind: 'idle' } };
  assert.throws(
    () => parseScenario({ ...base, guests: [dup, dup] }, 'd.json'),
    /d\.json: guests\[1\]\.name: duplicate/,
  );
  assert.throws(
    () => parseScenario({ ...base, guests: [{ ...dup, start_s: 5, stop_s: 5 }] }, 's.json'),
    /s\.json: guests\[0\]\.stop_s/,
  );
});
