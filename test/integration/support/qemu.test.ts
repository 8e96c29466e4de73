import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accelArgs, kvmUsable } from './qemu.js';

test('accelArgs: TCG with its translation cache; KVM with the host CPU and no cache', () => {
  assert.deepEqual(accelArgs('tcg', 32), ['-accel', 'tcg,tb-size=32']);
  assert.deepEqual(accelArgs('kvm', 32), ['-accel', 'kvm', '-cpu', 'host']);
});

test('kvmUsable: false for a device that is missing, true for one this process can read and write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-usable-'));
  try {
    assert.equal(kvmUsable(join(dir, 'kvm')), false);
    writeFileSync(join(dir, 'kvm'), '');
    assert.equal(kvmUsable(join(dir, 'kvm')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
