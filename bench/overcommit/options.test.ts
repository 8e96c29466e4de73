import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  benchTurnsZswapOn,
  parseOptions,
  planRuns,
  resolveAccel,
  usesDefaultPolicy,
  USAGE,
  variantMomdSettings,
  variantPolicy,
  variantUsesZswap,
} from './options.js';

test('defaults', () => {
  const o = parseOptions([]);
  assert.equal(o.pattern, 'moderate');
  assert.deepEqual(o.variants, ['ceiling', 'none', 'classic', 'default']);
  assert.deepEqual(
    [o.repeats, o.guests, o.guestMiB, o.budgetPct, o.warmupS, o.windowS],
    [2, 4, 576, 67, 60, 180],
  );
  assert.equal(o.defaultPolicy, 'policies/default');
});

test('the short mode and momd settings', () => {
  const o = parseOptions([
    '--window',
    '30',
    '--warmup',
    '15',
    '--repeats',
    '1',
    '--variants',
    'ceiling,none',
    '--momd-set',
    'policy-engine-interval=5',
    '--pattern',
    'idle-heavy',
  ]);
  assert.deepEqual([o.windowS, o.warmupS, o.repeats], [30, 15, 1]);
  assert.deepEqual(o.variants, ['ceiling', 'none']);
  assert.deepEqual(o.momdSettings, { 'policy-engine-interval': '5' });
  assert.equal(o.pattern, 'idle-heavy');
});

test('none-zswap: asked for by name only; no policy and no momd setting (the benchmark turns zswap on)', () => {
  assert.ok(!parseOptions([]).variants.includes('none-zswap'), 'not in the default invocation');
  const o = parseOptions(['--variants', 'none-zswap,default-zswap']);
  assert.deepEqual(o.variants, ['none-zswap', 'default-zswap']);
  assert.deepEqual(variantMomdSettings('none-zswap'), {});
  assert.ok(!usesDefaultPolicy('none-zswap'));
  assert.ok(
    benchTurnsZswapOn('none-zswap') && !benchTurnsZswapOn('default-zswap') && !benchTurnsZswapOn('none'),
  );
  assert.ok(
    variantUsesZswap('none-zswap') && variantUsesZswap('default-zswap') && !variantUsesZswap('default'),
  );
});

test('default-zswap: asked for by name only; the default policy with zswap-owned, which --momd-set may override', () => {
  assert.ok(!parseOptions([]).variants.includes('default-zswap'), 'not in the default invocation');
  const o = parseOptions(['--variants', 'none,default,default-zswap', '--default-policy', 'my/policies']);
  assert.deepEqual(o.variants, ['none', 'default', 'default-zswap']);
  assert.deepEqual(
    planRuns(o).map((r) => r.variant),
    ['none', 'default', 'default-zswap', 'none', 'default', 'default-zswap'],
  );
  assert.ok(
    usesDefaultPolicy('default-zswap') && usesDefaultPolicy('default') && !usesDefaultPolicy('classic'),
  );
  assert.deepEqual(variantMomdSettings('default-zswap'), { 'zswap-owned': 'true' });
  assert.deepEqual(variantMomdSettings('default'), {});
  assert.match(
    USAGE,
    /--variants LIST +of ceiling,none,none-zswap,classic,default,default-zswap,candidate\n/,
  );
  assert.match(USAGE, /default-zswap is the default\s+policy with zswap-owned: true/);
  assert.throws(
    () => parseOptions(['--variants', 'zswap']),
    /known: ceiling, none, none-zswap, classic, default, default-zswap, candidate/,
  );
});

test('bad input is refused with the option named', () => {
  assert.throws(() => parseOptions(['--variants', 'ceiling,best']), /--variants: unknown variant 'best'/);
  assert.throws(() => parseOptions(['--repeats', '1.5']), /--repeats/);
  assert.throws(() => parseOptions(['--pattern', 'spiky']), /--pattern/);
  assert.throws(() => parseOptions(['--momd-set', 'novalue']), /KEY=VALUE/);
  assert.throws(() => parseOptions(['--frobnicate']));
});

test('runs are interleaved: one of each variant per repeat', () => {
  const runs = planRuns({
    variants: ['ceiling', 'none', 'classic'],
    repeats: 2,
    density: false,
    budgetPct: 67,
  });
  assert.deepEqual(
    runs.map((r) => `${r.variant}@${r.budgetPct ?? '-'}#${r.repeat}`),
    ['ceiling@-#1', 'none@67#1', 'classic@67#1', 'ceiling@-#2', 'none@67#2', 'classic@67#2'],
  );
});

test('density: four budgets per managed variant and one ceiling run per repeat', () => {
  const runs = planRuns({
    variants: ['ceiling', 'none', 'classic'],
    repeats: 1,
    density: true,
    budgetPct: 67,
  });
  assert.equal(runs.length, 1 + 4 * 2);
  assert.deepEqual(
    runs.filter((r) => r.variant === 'classic').map((r) => r.budgetPct),
    [100, 80, 67, 50],
  );
});

test('density with --budgets: those budgets, largest first; --budgets alone or over 100% is refused', () => {
  const o = parseOptions(['--density', '--budgets', '50,67', '--variants', 'ceiling,none', '--repeats', '1']);
  assert.deepEqual(o.densityBudgets, [67, 50]);
  assert.deepEqual(
    planRuns(o).map((r) => `${r.variant}@${r.budgetPct ?? '-'}`),
    ['ceiling@-', 'none@67', 'none@50'],
  );
  assert.throws(() => parseOptions(['--budgets', '67']), /only with --density/);
  assert.throws(() => parseOptions(['--density', '--budgets', '67,120']), /over 100%/);
  assert.throws(() => parseOptions(['--density', '--budgets', '67,x']), /--budgets/);
});

test('candidate: a second policy folder run side by side with the default; it needs --candidate-policy', () => {
  assert.throws(
    () => parseOptions(['--variants', 'none,candidate']),
    /candidate needs --candidate-policy DIR/,
  );
  const o = parseOptions(['--variants', 'default,candidate', '--candidate-policy', '/tmp/new']);
  assert.deepEqual(
    planRuns(o).map((r) => r.variant),
    ['default', 'candidate', 'default', 'candidate'],
  );
  assert.equal(variantPolicy('candidate', o), '/tmp/new');
  assert.equal(variantPolicy('default', o), 'policies/default');
  assert.equal(variantPolicy('classic', o), 'policies/classic');
  assert.equal(variantPolicy('none', o), null);
  assert.equal(variantPolicy('none-zswap', o), null, 'none-zswap runs momd without a policy, as none');
  assert.equal(variantPolicy('candidate', parseOptions([])), null);
});

test('--accel: auto takes KVM where it is usable; kvm asked for on a machine without it is an error', () => {
  assert.equal(parseOptions([]).accel, 'auto');
  assert.equal(parseOptions(['--accel', 'tcg']).accel, 'tcg');
  assert.throws(() => parseOptions(['--accel', 'hvf']), /--accel: expected auto, kvm or tcg, got 'hvf'/);
  assert.equal(resolveAccel('auto', true), 'kvm');
  assert.equal(resolveAccel('auto', false), 'tcg');
  assert.equal(resolveAccel('tcg', true), 'tcg', 'tcg on a KVM host on request');
  assert.equal(resolveAccel('kvm', true), 'kvm');
  assert.throws(() => resolveAccel('kvm', false), /--accel kvm: \/dev\/kvm is missing/);
  assert.match(USAGE, /--accel auto\|kvm\|tcg/);
});
