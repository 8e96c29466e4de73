import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerCheck } from './auth.js';

test('only "Bearer <token>" passes', () => {
  const check = bearerCheck('s3cret');
  assert.equal(check('Bearer s3cret'), true);
  assert.equal(check('bearer s3cret'), true);
  assert.equal(check(undefined), false);
  assert.equal(check(''), false);
  assert.equal(check('Bearer s3cre'), false);
  assert.equal(check('Bearer s3cret2'), false);
  assert.equal(check('Basic s3cret'), false);
  assert.equal(check('s3cret'), false);
  assert.throws(() => bearerCheck(''), RangeError);
});
