import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from './cli/paths.js';
import { CODES, codeOf, MomError, RETIRED } from './errors.js';

/** The codes docs/errors.md lists, with their level. */
function documented(): Map<string, string> {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'errors.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `(MOM_[EW]_[A-Z_]+)` +\| (error|warning) +\|/gm))
    out.set(m[1] ?? '', m[2] ?? '');
  return out;
}

/** Every TypeScript file under src/, except this module and its test. */
function sources(dir = join(PACKAGE_ROOT, 'src')): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') && !/\/src\/errors\.ts$/.test(p) ? [p] : [];
  });
}

test('docs/errors.md lists exactly the catalogue, each with its level', () => {
  const doc = documented();
  for (const [code, entry] of Object.entries(CODES))
    assert.equal(
      doc.get(code),
      entry.level,
      `${code} is documented as a${entry.level === 'error' ? 'n' : ''} ${entry.level}`,
    );
  for (const code of doc.keys()) assert.ok(code in CODES, `${code} is documented but not in src/errors.ts`);
});

test('every code the source names is in the catalogue, and every code in the catalogue is used', () => {
  const used = new Set<string>();
  for (const file of sources())
    for (const m of readFileSync(file, 'utf8').matchAll(/'(MOM_[EW]_[A-Z_]+)'/g)) used.add(m[1] ?? '');
  for (const code of used) assert.ok(code in CODES, `${code} is used but not catalogued`);
  for (const code of Object.keys(CODES)) assert.ok(used.has(code), `${code} is catalogued but never used`);
  for (const code of RETIRED) assert.ok(!(code in CODES), `${code} was retired and must not come back`);
});

test('codes are named by level: MOM_E_ for errors, MOM_W_ for warnings', () => {
  for (const [code, entry] of Object.entries(CODES))
    assert.match(code, entry.level === 'error' ? /^MOM_E_[A-Z_]+$/ : /^MOM_W_[A-Z_]+$/);
});

test('codeOf: an error with a catalogue code gives it; anything else is MOM_E_FATAL', () => {
  assert.equal(codeOf(new MomError('MOM_E_TIMEOUT', 'slow')), 'MOM_E_TIMEOUT');
  assert.equal(codeOf(Object.assign(new Error('x'), { code: 'ENOENT' })), 'MOM_E_FATAL');
  assert.equal(codeOf('a string'), 'MOM_E_FATAL');
});
