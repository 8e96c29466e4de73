import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemdNotifier, type ExecFile } from './sd-notify.js';

test('without NOTIFY_SOCKET there is no notifier', () => {
  assert.equal(
    systemdNotifier({}, () => assert.fail('no warning')),
    null,
  );
});

test('messages go through systemd-notify --pid with KEY=VALUE arguments; a failure warns once', async () => {
  const calls: string[][] = [];
  const warnings: string[] = [];
  let fail = false;
  const exec: ExecFile = (file, args, done) => {
    calls.push([file, ...args]);
    done(fail ? new Error('spawn systemd-notify ENOENT') : null);
  };
  const n = systemdNotifier({ NOTIFY_SOCKET: '/run/x.sock' }, (w) => warnings.push(w), exec, 42);
  assert.ok(n);
  await n.notify({ READY: '1', STATUS: 'running' });
  assert.deepEqual(calls, [['systemd-notify', '--pid=42', 'READY=1', 'STATUS=running']]);
  fail = true;
  await n.notify({ STOPPING: '1' });
  await n.notify({ STOPPING: '1' });
  assert.deepEqual(warnings, [
    'cannot notify systemd (NOTIFY_SOCKET=/run/x.sock) through systemd-notify: spawn systemd-notify ENOENT',
  ]);
});

test('the watchdog pings every half WATCHDOG_USEC, only when it is meant for this process', async () => {
  const pings: string[][] = [];
  const exec: ExecFile = (_file, args, done) => {
    pings.push([...args]);
    done(null);
  };
  const other = systemdNotifier(
    { NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '100000', WATCHDOG_PID: '7' },
    () => {},
    exec,
    42,
  );
  other?.startWatchdog();
  const n = systemdNotifier(
    { NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '100000', WATCHDOG_PID: '42' },
    () => {},
    exec,
    42,
  );
  n?.startWatchdog();
  await new Promise((r) => setTimeout(r, 280));
  n?.stop();
  other?.stop();
  // Every 50 ms for 280 ms: about 5, and none from the notifier meant for another pid.
  assert.ok(pings.length >= 3 && pings.length <= 6, `${pings.length} pings`);
  assert.ok(pings.every((a) => a.join(' ') === '--pid=42 WATCHDOG=1'));
});

test('messages go out one at a time, in the order sent, and a ping does not queue behind them', async () => {
  const started: string[] = [];
  const waiting: (() => void)[] = [];
  // systemd-notify processes that finish only when the test lets them.
  const exec: ExecFile = (_file, args, done) => {
    started.push(args.slice(1).join(' '));
    waiting.push(() => done(null));
  };
  const n = systemdNotifier({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '20000' }, () => {}, exec, 42);
  assert.ok(n);
  const reloading = n.notify({ RELOADING: '1' });
  const ready = n.notify({ READY: '1' });
  n.startWatchdog();
  await new Promise((r) => setTimeout(r, 50));
  // READY=1 has not started while RELOADING=1 is on its way, and no ping was queued.
  assert.deepEqual(started, ['RELOADING=1']);
  waiting.shift()?.();
  await reloading;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['RELOADING=1', 'READY=1']);
  waiting.shift()?.();
  await ready;
  await new Promise((r) => setTimeout(r, 50));
  n.stop();
  assert.ok(started.slice(2).every((m) => m === 'WATCHDOG=1') && started.length > 2, started.join(', '));
  waiting.forEach((w) => w());
});
