// End-to-end tests of the classic policy set (policies/classic): `momctl policy run` evaluates it on the
// snapshots in test/fixtures/snapshots and every control is checked against arithmetic done here, by hand,
// from the fixture's numbers. Memory is in KiB; controls are compared before the daemon truncates them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The compiled file runs from dist/test/policies/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const momctl = path.join(repoRoot, 'bin/momctl.js');
const classicPolicies = ['policies/classic/10-balloon.policy', 'policies/classic/20-ksm.policy'];

const GiB = 1048576; // KiB

// The policy's tunables, as defined at the top of each policy file.
const pressureThreshold = 0.2;
const criticalThreshold = 0.05;
const guestFreeMargin = 0.2;
const shrinkStep = 0.05;
const growStep = 0.05;
const ksmFreeThreshold = 0.2;

type Sample = Record<string, number | null>;
interface Snapshot {
  fields: { host: string[]; guest: string[] };
  host: { properties: Record<string, unknown>; stats: Sample[] };
  guests: { properties: { name: string } & Record<string, unknown>; stats: Sample[] }[];
}
interface Controls {
  host: Record<string, number | undefined>;
  guests: Record<string, Record<string, number | undefined> | undefined>;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function momctlRun(args: string[]): Run {
  const result = spawnSync(process.execPath, [momctl, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Evaluates the classic set (after `before`, e.g. a site override file) and returns the controls set. */
function runPolicies(snapshot: string, before: string[] = []): Controls {
  const run = momctlRun(['policy', 'run', '--snapshot', snapshot, ...before, ...classicPolicies]);
  assert.equal(run.status, 0, `momctl policy run ${snapshot} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Controls;
}

const fixtureRuns = new Map<string, Controls>();

/** Controls for a fixture in test/fixtures/snapshots, evaluated once and shared by the tests below. */
function fixture(name: string): Controls {
  let controls = fixtureRuns.get(name);
  if (controls === undefined) {
    controls = runPolicies(`test/fixtures/snapshots/${name}`);
    fixtureRuns.set(name, controls);
  }
  return controls;
}

let scratch: string | undefined;
after(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** Writes a file into a scratch directory removed after the tests, and returns its path. */
function scratchFile(name: string, text: string): string {
  scratch ??= mkdtempSync(path.join(tmpdir(), 'momd-classic-'));
  const file = path.join(scratch, name);
  writeFileSync(file, text);
  return file;
}

/** A copy of a fixture with every host sample edited; returns the path of the copy. */
function hostVariant(name: string, variant: string, edit: (sample: Sample) => void): string {
  const snapshot = JSON.parse(
    readFileSync(path.join(repoRoot, 'test/fixtures/snapshots', name), 'utf8'),
  ) as Snapshot;
  snapshot.host.stats.forEach(edit);
  return scratchFile(`${variant}.json`, JSON.stringify(snapshot));
}

function balloonTarget(controls: Controls, guest: string): number | undefined {
  return controls.guests[guest]?.balloon_target;
}

/** Compares KiB values (or milliseconds, or pages) to a hundredth: enough for float noise. */
function assertClose(actual: number | undefined, expected: number, what: string): void {
  assert.notEqual(actual, undefined, `${what}: no control was set, expected ${expected}`);
  assert.ok(Math.abs((actual ?? NaN) - expected) < 0.01, `${what}: got ${actual}, expected ${expected}`);
}

const mean = (...values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

// ---------------------------------------------------------------------------------------------------------
// pressure.json: 16 GiB host, freeable memory averaged over three samples, about 12 percent.
// ---------------------------------------------------------------------------------------------------------

const pressureFree = mean(2100000, 2000000, 1940000) / (16 * GiB); // 0.120004...
const pressureMargin = guestFreeMargin * (pressureFree / pressureThreshold); // 0.120004...

test('pressure: a big idle guest shrinks by exactly one 5% step, not all the way to used + margin', () => {
  // vm01: 4 GiB balloon, unused memory averages (1500000 + 1450000 + 1400000) / 3 = 1450000.
  const current = 4 * GiB;
  const used = current - mean(1500000, 1450000, 1400000); // 2744304
  const wanted = used + used * pressureMargin; // about 3073636: far below one step
  const oneStep = current - current * shrinkStep; // 3984588.8
  assert.ok(wanted < oneStep);
  assertClose(balloonTarget(fixture('pressure.json'), 'vm01'), oneStep, 'vm01 balloon_target');
});

test('pressure: a guest close to its need shrinks to used + margin, averaged over the history', () => {
  // vm02: balloon 6500000, 6400000, 6291456 (newest); unused 1000000, 950000, 900000.
  const current = 6 * GiB;
  const used = mean(6500000, 6400000, 6291456) - mean(1000000, 950000, 900000); // 6397152 - 950000
  const wanted = used + used * pressureMargin; // about 6100838
  assert.ok(wanted > current - current * shrinkStep && wanted < current, 'inside one step');
  assertClose(balloonTarget(fixture('pressure.json'), 'vm02'), wanted, 'vm02 balloon_target');
});

test('pressure: a guest at balloon_min gets no control', () => {
  // vm03: balloon_cur = balloon_min = 1 GiB. The target is clamped to the minimum, a change of 0.
  assert.equal(balloonTarget(fixture('pressure.json'), 'vm03'), undefined);
});

test('pressure: a guest without balloon statistics is left alone and blocks nobody', () => {
  // vm04: balloon_cur and mem_unused are null in every sample. Had the policy compared nil with a number,
  // the evaluation would have failed and vm01 would have no control either.
  const controls = fixture('pressure.json');
  assert.equal(balloonTarget(controls, 'vm04'), undefined);
  assert.notEqual(balloonTarget(controls, 'vm01'), undefined);
});

test('pressure: no guest shrinks by more than 5% or below balloon_min', () => {
  const snapshot = JSON.parse(
    readFileSync(path.join(repoRoot, 'test/fixtures/snapshots/pressure.json'), 'utf8'),
  ) as Snapshot;
  const controls = fixture('pressure.json');
  for (const guest of snapshot.guests) {
    const target = balloonTarget(controls, guest.properties.name);
    const newest = guest.stats.at(-1);
    if (target === undefined || newest === undefined) continue;
    const current = newest.balloon_cur ?? NaN;
    const floor = newest.balloon_min ?? NaN;
    assert.ok(target >= current * (1 - shrinkStep) - 0.01, `${guest.properties.name} shrinks at most 5%`);
    assert.ok(target >= floor, `${guest.properties.name} stays at or above balloon_min`);
    assert.ok(target <= current, `${guest.properties.name} does not grow under pressure`);
  }
});

test('pressure: KSM runs because free memory is under the threshold, scanning 300 pages more', () => {
  // Threshold 0.20 * 16 GiB = 3355443.2 KiB; average free 2013333.3 is under it. ksm_shareable (10000000)
  // is under 16 GiB - threshold = 13421772.8, so the free memory alone turns KSM on.
  const host = fixture('pressure.json').host;
  assert.ok(mean(2100000, 2000000, 1940000) < ksmFreeThreshold * 16 * GiB);
  assert.equal(host.ksm_run, 1);
  assertClose(host.ksm_pages_to_scan, 300 + 300, 'ksm_pages_to_scan');
  // 16 GiB is the reference size: 10 * 16777216 / 16777216 = 10 ms.
  assertClose(host.ksm_sleep_millisecs, 10, 'ksm_sleep_millisecs');
});

// ---------------------------------------------------------------------------------------------------------
// critical.json: 8 GiB host, freeable memory (270000 + 240000) / 2 = 255000 KiB, about 3 percent.
// ---------------------------------------------------------------------------------------------------------

const criticalFree = mean(270000, 240000) / (8 * GiB); // 0.030398...
const criticalMargin = criticalFree - criticalThreshold; // -0.019601...: guests must swap

test('critical: an idle guest shrinks by one 5% step', () => {
  // vm11: 2 GiB balloon, unused 300000 on average, so used 1797152 and wanted about 1761925.
  const current = 2 * GiB;
  const used = current - mean(320000, 280000);
  assert.ok(used + used * criticalMargin < current * (1 - shrinkStep));
  assertClose(balloonTarget(fixture('critical.json'), 'vm11'), current - current * shrinkStep, 'vm11');
});

test('critical: a busy guest is pushed below its used memory (the margin is negative)', () => {
  // vm14: balloon 1600000, unused (40000 + 20000) / 2 = 30000, so used 1570000.
  const current = 1600000;
  const used = current - mean(40000, 20000);
  const wanted = used + used * criticalMargin; // about 1539225.5, above one step (1520000)
  assert.ok(wanted < used && wanted > current * (1 - shrinkStep));
  assertClose(balloonTarget(fixture('critical.json'), 'vm14'), wanted, 'vm14 balloon_target');
});

test('critical: a guest just above balloon_min stops at balloon_min', () => {
  // vm12: balloon 1100000; one step would give 1045000 and used + margin about 686000, both under the
  // floor of 1 GiB = 1048576.
  assert.ok(1100000 * (1 - shrinkStep) < GiB);
  assert.equal(balloonTarget(fixture('critical.json'), 'vm12'), GiB);
});

test('critical: a guest below balloon_min is raised to balloon_min, even under pressure', () => {
  // vm13: balloon 900000 (newest sample) under balloon_min 1048576.
  assert.equal(balloonTarget(fixture('critical.json'), 'vm13'), GiB);
});

test('critical pressure shrinks harder than normal pressure on the same guests', () => {
  // The same snapshot with the host's freeable memory raised to 1006633 KiB, 12 percent of 8 GiB.
  const normal = runPolicies(
    hostVariant('critical.json', 'critical-at-12-percent', (sample) => {
      sample.mem_free = 1006633;
    }),
  );
  const normalMargin = guestFreeMargin * (1006633 / (8 * GiB) / pressureThreshold); // 0.12000...
  const critical = fixture('critical.json');

  // vm11: normal pressure stops at used + margin = 1797152 * 1.12 = about 2012810, above one step.
  const used11 = 2 * GiB - mean(320000, 280000);
  assertClose(balloonTarget(normal, 'vm11'), used11 + used11 * normalMargin, 'vm11 at 12 percent');
  assert.ok((balloonTarget(critical, 'vm11') ?? Infinity) < (balloonTarget(normal, 'vm11') ?? 0));

  // vm14: normal pressure wants 1570000 * 1.12 = 1758400, more than its balloon: no change at all.
  assert.equal(balloonTarget(normal, 'vm14'), undefined);
  assert.ok((balloonTarget(critical, 'vm14') ?? Infinity) < 1600000);
});

test('critical: KSM scans 300 pages more, clamped to 1250, and an 8 GiB host sleeps 20 ms', () => {
  const host = fixture('critical.json').host;
  assert.equal(host.ksm_run, 1);
  assertClose(host.ksm_pages_to_scan, Math.min(1250, 1100 + 300), 'ksm_pages_to_scan');
  assertClose(host.ksm_sleep_millisecs, (10 * 16777216) / (8 * GiB), 'ksm_sleep_millisecs'); // 20
});

// ---------------------------------------------------------------------------------------------------------
// relaxed.json: 16 GiB host, freeable memory (8000000 + 8777216) / 2 = 8388608 KiB, exactly 50 percent.
// Without pressure the margin is the full 0.20 (the scale host_free / 0.20 = 2.5 is capped at 1).
// ---------------------------------------------------------------------------------------------------------

test('relaxed: a ballooned guest grows back by 5% of its current size', () => {
  // vm21: balloon 3000000, used 3000000 - 1050000 = 1950000; used + margin = 2340000 < 3150000.
  assertClose(balloonTarget(fixture('relaxed.json'), 'vm21'), 3000000 * (1 + growStep), 'vm21');
});

test('relaxed: a busy guest grows straight to used + margin when that is more than one step', () => {
  // vm24: balloon 2000000, unused (20000 + 0) / 2 = 10000, used 1990000; 1990000 * 1.2 = 2388000 beats
  // one step (2100000) and stays under balloon_max (8 GiB).
  const used = 2000000 - mean(20000, 0);
  assertClose(balloonTarget(fixture('relaxed.json'), 'vm24'), used + used * guestFreeMargin, 'vm24');
});

test('relaxed: growth stops at balloon_max', () => {
  // vm23: one step from 2000000 would be 2100000, over balloon_max 2 GiB = 2097152.
  assert.ok(2000000 * (1 + growStep) > 2 * GiB);
  assert.equal(balloonTarget(fixture('relaxed.json'), 'vm23'), 2 * GiB);
});

test('relaxed: a guest at balloon_max gets no control', () => {
  // vm22: balloon_cur = balloon_max = 2 GiB.
  assert.equal(balloonTarget(fixture('relaxed.json'), 'vm22'), undefined);
});

test('relaxed: a change under 0.25% of the balloon is skipped', () => {
  // vm25: balloon 4190000, max 4194304: the step to the max (4304 KiB) is under 0.0025 * 4190000 = 10475.
  assert.ok(4 * GiB - 4190000 < 0.0025 * 4190000);
  assert.equal(balloonTarget(fixture('relaxed.json'), 'vm25'), undefined);
});

test('relaxed: KSM is turned off and not tuned', () => {
  // Free 8388608 is over the threshold 3355443.2, and ksm_shareable 9000000 is under
  // 16 GiB - threshold = 13421772.8: neither condition holds.
  const host = fixture('relaxed.json').host;
  assert.equal(host.ksm_run, 0);
  assert.equal(host.ksm_pages_to_scan, undefined);
  assert.equal(host.ksm_sleep_millisecs, undefined);
});

// ---------------------------------------------------------------------------------------------------------
// ksm-committed.json: 64 GiB host, half of it free, but guests commit 60000000 KiB.
// ---------------------------------------------------------------------------------------------------------

test('ksm-committed: KSM runs when guests commit more than total - threshold, despite free memory', () => {
  // Threshold 0.20 * 67108864 = 13421772.8; free (33000000 + 34108864) / 2 = 33554432 is above it, but
  // ksm_shareable 60000000 > 67108864 - 13421772.8 = 53687091.2.
  const controls = fixture('ksm-committed.json');
  assert.ok(60000000 > 64 * GiB * (1 - ksmFreeThreshold));
  assert.equal(controls.host.ksm_run, 1);
  // Without memory pressure the rate decays by 50: 100 - 50 = 50, clamped up to 64.
  assertClose(controls.host.ksm_pages_to_scan, Math.max(64, 100 - 50), 'ksm_pages_to_scan');
  // 10 * 16777216 / 67108864 = 2.5 ms, raised to the 10 ms floor.
  assertClose(controls.host.ksm_sleep_millisecs, Math.max(10, (10 * 16777216) / (64 * GiB)), 'sleep');
  // No memory pressure and both guests at balloon_max: no balloon controls.
  assert.equal(balloonTarget(controls, 'vm31'), undefined);
  assert.equal(balloonTarget(controls, 'vm32'), undefined);
});

test('ksm-committed: without pressure the scan rate decays by 50 when no bound is hit', () => {
  const host = runPolicies(
    hostVariant('ksm-committed.json', 'ksm-committed-500-pages', (sample) => {
      sample.ksm_pages_to_scan = 500;
    }),
  ).host;
  assertClose(host.ksm_pages_to_scan, 500 - 50, 'ksm_pages_to_scan');
});

test('ksm-committed: committing less than total - threshold turns KSM off', () => {
  const host = runPolicies(
    hostVariant('ksm-committed.json', 'ksm-committed-50000000', (sample) => {
      sample.ksm_shareable = 50000000; // under 53687091.2
    }),
  ).host;
  assert.equal(host.ksm_run, 0);
});

// ---------------------------------------------------------------------------------------------------------
// The policy set as a whole.
// ---------------------------------------------------------------------------------------------------------

test('tunables can be overridden by a policy file loaded earlier', () => {
  // defvar never overwrites, so these values win over the ones in the classic files.
  const site = scratchFile(
    '05-site.policy',
    '(defvar ksm_pages_boost 100)\n(defvar balloon_shrink_step 0.10)\n',
  );
  const controls = runPolicies('test/fixtures/snapshots/pressure.json', [site]);
  assertClose(controls.host.ksm_pages_to_scan, 300 + 100, 'ksm_pages_to_scan');
  // vm01 now shrinks by 10%: 4194304 * 0.9 = 3774873.6 (used + margin, about 3073636, is still lower).
  assertClose(balloonTarget(controls, 'vm01'), 4 * GiB * 0.9, 'vm01 balloon_target');
});

test('momctl policy check accepts both classic files', () => {
  const run = momctlRun(['policy', 'check', ...classicPolicies]);
  assert.equal(run.status, 0, `momctl policy check failed:\n${run.stderr}`);
  assert.equal(run.stderr, '');
});
