import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIniProblem, interpolate, parseIni } from './ini.js';

function values(text: string, section: string): Record<string, string> {
  const doc = parseIni(text);
  assert.deepEqual(doc.errors, []);
  const s = section === 'DEFAULT' ? doc.defaults : doc.sections.get(section);
  assert.ok(s, `section [${section}] read`);
  return Object.fromEntries([...s.entries.values()].map((e) => [e.key, e.value]));
}

test('both delimiters; the first ":" or "=" splits; keys lower-cased, key and value stripped', () => {
  const text =
    '[main]\n  Policy-Engine-Interval  =  10  \nlibvirt-hypervisor-uri: qemu:///system\nx = a=b\nempty:\n';
  assert.deepEqual(values(text, 'main'), {
    'policy-engine-interval': '10',
    'libvirt-hypervisor-uri': 'qemu:///system',
    x: 'a=b',
    empty: '',
  });
});

test('full-line comments anywhere, "#" and ";"; no end-of-line comments', () => {
  const text = '# top\n; also\n[main]\n   # indented comment\nplot-dir: /tmp # not a comment\n';
  assert.deepEqual(values(text, 'main'), { 'plot-dir': '/tmp # not a comment' });
});

test('indented lines continue a value; inner blank lines kept, trailing ones and comments dropped', () => {
  const text = [
    '[main]',
    'controllers: Balloon,',
    '    KSM',
    '',
    '  # a comment',
    '    CpuTune',
    '',
    '',
    'policy: p',
  ];
  assert.deepEqual(values(text.join('\n'), 'main'), { controllers: 'Balloon,\nKSM\n\nCpuTune', policy: 'p' });
});

test('a line indented like its key starts a new key; a section header ends a value', () => {
  const text = '[main]\n  a: 1\n  b: 2\n[host]\n  collectors: x\n';
  assert.deepEqual(values(text, 'main'), { a: '1', b: '2' });
  assert.deepEqual(values(text, 'host'), { collectors: 'x' });
});

test('[DEFAULT] is kept apart; section names are case-sensitive', () => {
  const doc = parseIni('[DEFAULT]\na: 1\n[Main]\nb: 2\n');
  assert.deepEqual([...(doc.defaults?.entries.keys() ?? [])], ['a']);
  assert.deepEqual([...doc.sections.keys()], ['Main']);
});

test('CRLF line ends and a byte-order mark are read', () => {
  assert.deepEqual(values('\uFEFF[main]\r\na: 1\r\n  2\r\n', 'main'), { a: '1\n2' });
});

test('a repeated section is merged with a warning; a repeated key is an error naming both lines', () => {
  const doc = parseIni('[main]\na: 1\n[host]\n[main]\nb: 2\na: 3\n');
  assert.deepEqual([...(doc.sections.get('main')?.entries.keys() ?? [])], ['a', 'b']);
  assert.deepEqual(
    doc.warnings.map((p) => formatIniProblem('f', p)),
    ['f:4:1: section [main] appears again (first on line 1); its keys are merged'],
  );
  assert.deepEqual(
    doc.errors.map((p) => formatIniProblem('f', p)),
    ["f:6:1: duplicate key 'a' in [main] (first set on line 2)"],
  );
});

test('malformed lines are errors with line and column, and reading goes on', () => {
  const text = [
    'x: 1',
    '[main]',
    '  just words',
    '[logging',
    'log: a',
    '[]',
    '= v',
    '[host] junk',
    'collectors: c',
  ];
  const doc = parseIni(text.join('\n'));
  assert.deepEqual(
    doc.errors.map((p) => formatIniProblem('mom.conf', p)),
    [
      "mom.conf:1:1: key 'x' appears before any [section] header",
      "mom.conf:3:3: malformed line 'just words': expected 'key: value', 'key = value' or a [section] header",
      "mom.conf:4:1: unclosed '[' in section header '[logging'",
      'mom.conf:6:1: empty section name',
    ],
  );
  // Lines after a broken header belong to no section and are not reported again.
  assert.deepEqual(
    doc.warnings.map((p) => formatIniProblem('mom.conf', p)),
    ['mom.conf:8:8: text after section header [host] ignored'],
  );
  assert.deepEqual(values('[host] ; a comment\ncollectors: c', 'host'), { collectors: 'c' });
  assert.equal(doc.sections.get('host')?.entries.get('collectors')?.value, 'c');
});

test('an empty key is an error at its column', () => {
  const doc = parseIni('[main]\n  = v\n');
  assert.deepEqual(
    doc.errors.map((p) => formatIniProblem('f', p)),
    ["f:2:3: missing key before '='"],
  );
});

test('interpolation: %% and %(name)s, recursively; other % are errors', () => {
  const vars: Record<string, string> = { base: '/var/lib/mom', dir: '%(base)s/plots', loop: '%(loop)s' };
  const look = (k: string): string | undefined => vars[k];
  assert.deepEqual(interpolate('%(DIR)s/x 100%%', look), { ok: true, value: '/var/lib/mom/plots/x 100%' });
  assert.deepEqual(interpolate('50%', look), {
    ok: false,
    error: "'%' must be followed by '%' or '(' (write '%%' for a literal '%')",
  });
  assert.deepEqual(interpolate('%(nope)s', look), {
    ok: false,
    error: "interpolation refers to unknown key 'nope'",
  });
  assert.deepEqual(interpolate('%(base)', look), {
    ok: false,
    error: "bad interpolation reference '%(base)': expected '%(name)s'",
  });
  assert.deepEqual(interpolate('%(loop)s', look), {
    ok: false,
    error: 'interpolation nested too deeply (a reference loop?)',
  });
});
