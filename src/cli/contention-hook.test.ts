// The contention hook as a real process: a shell script that records what it was given.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { EngineEvents } from '../engine/events.js';
import { attachContentionHook, runContentionHook } from './contention-hook.js';

const dir = mkdtempSync(join(tmpdir(), 'momd-hook-'));
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const started = {
  change: 'started' as const,
  at: 100,
  facts: {
    psiFull: 42,
    sinceS: 30,
    guests: [
      { name: 'web', balloonKib: 524288, floorKib: 524288, swapInRate: 0 },
      { name: 'db', balloonKib: 900000, floorKib: 524288, swapInRate: 12 },
    ],
  },
};

test('the hook gets the facts in its environment and as JSON on stdin; its output and status come back', async () => {
  const out = join(dir, 'seen');
  const hook = script(
    'record',
    `echo "$MOMD_CONTENTION $MOMD_PSI_FULL $MOMD_GUESTS" > ${out}\ncat >> ${out}\necho moved db`,
  );
  const r = await runContentionHook(hook, started);
  assert.deepEqual([r.code, r.signal, r.output], [0, null, 'moved db']);
  const [env, json] = readFileSync(out, 'utf8').split('\n');
  assert.equal(env, 'started 42 web db');
  assert.deepEqual(JSON.parse(json ?? ''), started);
  const ended = await runContentionHook(script('ended', 'echo "$MOMD_CONTENTION $MOMD_DURATION_S"'), {
    change: 'ended',
    at: 200,
    durationS: 100,
  });
  assert.equal(ended.output, 'ended 100');
});

test('a hook that fails, hangs or does not exist is reported; nothing throws', async () => {
  const fails = await runContentionHook(script('fails', 'echo no cluster >&2; exit 3'), started);
  assert.deepEqual([fails.code, fails.output], [3, 'no cluster']);
  const t0 = Date.now();
  const hangs = await runContentionHook(script('hangs', 'exec sleep 30'), started, 300);
  assert.equal(hangs.signal, 'SIGTERM');
  assert.ok(Date.now() - t0 < 5000);
  const missing = await runContentionHook(join(dir, 'nope'), started);
  assert.match(missing.error ?? '', /ENOENT/);
});

test('attached to the events, each contention event runs the hook and the outcome is logged', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  const events = new EngineEvents();
  const off = attachContentionHook(events, script('fine', 'exit 0'), log);
  events.emit('contention', started);
  const failing = attachContentionHook(events, script('bad', 'exit 1'), log);
  events.emit('contention', { change: 'ended', at: 1, durationS: 1 });
  const until = Date.now() + 5000;
  while (lines.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  off();
  failing();
  assert.equal(lines.filter((l) => /done \((started|ended)\)$/.test(String(l['msg']))).length, 2);
  assert.ok(lines.some((l) => l['code'] === 'MOM_W_HOOK' && /exited with 1/.test(String(l['msg']))));
});

test('the pause step runs the hook too: paused, resumed and gone, with the guest', async () => {
  const out = join(dir, 'pauses-seen');
  const hook = script(
    'pauses',
    `echo "$MOMD_CONTENTION $MOMD_GUEST $MOMD_PAUSED_S $MOMD_REASON" >> ${out}; cat > /dev/null`,
  );
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  const events = new EngineEvents();
  const off = attachContentionHook(events, hook, log);
  events.emit('pause', {
    change: 'paused',
    guest: 'batch',
    shares: 500,
    rssKib: 900000,
    reason: 'contention for 30 s',
    at: 1,
  });
  const wait = async (n: number): Promise<void> => {
    const until = Date.now() + 5000;
    while (lines.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  };
  await wait(1);
  events.emit('pause', { change: 'resumed', guest: 'batch', pausedS: 42, reason: 'contention over', at: 2 });
  await wait(2);
  events.emit('pause', { change: 'gone', guest: 'batch', at: 3 });
  await wait(3);
  off();
  events.emit('pause', { change: 'gone', guest: 'other', at: 4 });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(readFileSync(out, 'utf8').trimEnd().split('\n'), [
    'paused batch  contention for 30 s',
    'resumed batch 42 contention over',
    'gone batch',
  ]);
  assert.equal(lines.filter((l) => /done \((paused|resumed|gone)\)$/.test(String(l['msg']))).length, 3);
});
