import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, didYouMean, editDistance } from './suggest.js';

test('edit distance counts insertions, deletions, replacements and adjacent swaps as one', () => {
  assert.equal(editDistance('balloon_cur', 'balloon_cur'), 0);
  assert.equal(editDistance('balloon_curr', 'balloon_cur'), 1); // insertion
  assert.equal(editDistance('baloon_target', 'balloon_target'), 1); // deletion
  assert.equal(editDistance('Contrl', 'Control'), 1);
  assert.equal(editDistance('Stta', 'Stat'), 1); // swap
  assert.equal(editDistance('ksm_nur', 'ksm_run'), 2);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('closest: only near names, the nearest first, ties to the earlier candidate', () => {
  const fields = ['balloon_cur', 'balloon_max', 'balloon_min', 'mem_unused'];
  assert.equal(closest('balloon_curr', fields), 'balloon_cur');
  assert.equal(closest('balloon_mix', fields), 'balloon_max');
  assert.equal(closest('swap_total', fields), undefined);
  assert.equal(closest('Balloon_Cur', fields), 'balloon_cur');
  // Short names allow one edit only: 'abx' is not 'ab' + two letters away.
  assert.equal(closest('rsx', ['rss']), 'rss');
  assert.equal(closest('rxx', ['rss']), undefined);
  // One or two letters: any other short name is as close, so none is suggested (but case is).
  assert.equal(closest('y', ['x', 'z']), undefined);
  assert.equal(closest('ab', ['ac']), undefined);
  assert.equal(closest('AB', ['ab']), 'ab');
  // A name never suggests itself.
  assert.equal(closest('rss', ['rss']), undefined);
});

test('didYouMean words the hint, or gives the fallback', () => {
  assert.equal(didYouMean('Contrl', ['Stat', 'Control']), "; did you mean 'Control'?");
  assert.equal(didYouMean('Frobnicate', ['Stat', 'Control']), '.');
  assert.equal(didYouMean('Frobnicate', ['Stat'], ' (none known).'), ' (none known).');
});
