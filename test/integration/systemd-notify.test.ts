// momd under a stand-in for systemd: a unix datagram socket in NOTIFY_SOCKET (Python's, as
// systemd's is), with WATCHDOG_USEC set. The real daemon says READY=1 with its MAINPID once it
// runs, pings the watchdog, says RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startMomd } from './support/momd-process.js';
import { inCI, which } from './support/skip.js';
import { until } from './support/wait.js';

// Prints each datagram as a JSON string on a line; closes the fds of systemd-notify's BARRIER=1
// so that it goes on at once, as systemd does.
const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps(msg.decode()), flush=True)
`;

const missing = [
  which('systemd-notify') ? null : 'systemd-notify',
  which('python3') ? null : 'python3',
].filter((m) => m !== null);

test(
  'READY=1 with MAINPID, watchdog pings, RELOADING=1/READY=1 on SIGHUP, STOPPING=1 on SIGTERM',
  { skip: missing.length === 0 || inCI() ? false : `${missing.join(', ')} not found` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'momd-notify-'));
    const socket = join(dir, 'notify.sock');
    writeFileSync(join(dir, 'listener.py'), LISTENER);
    const listener = spawn('python3', [join(dir, 'listener.py'), socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const messages: string[] = [];
    let buffered = '';
    listener.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      messages.push(...lines.map((l) => JSON.parse(l) as string));
    });
    const got = (what: string, pred: (m: string) => boolean, from = 0) =>
      until(`${what} (messages: ${JSON.stringify(messages)})`, 30_000, () => {
        const i = messages.findIndex((m, j) => j >= from && pred(m));
        return i < 0 ? undefined : i;
      });
    try {
      await got('the listener bound', (m) => m === 'bound');
      assert.ok(existsSync(socket));
      writeFileSync(join(dir, 'mom.conf'), '[main]\nhypervisor-interface: simulated\nsimulator-speed: 10\n');
      const momd = startMomd(['-c', join(dir, 'mom.conf')], {
        env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' },
      });
      try {
        const ready = await got('READY=1', (m) => m.split('\n').includes('READY=1'));
        const readyMessage = messages[ready] ?? '';
        assert.ok(readyMessage.split('\n').includes(`MAINPID=${momd.child.pid}`), readyMessage);
        assert.ok(
          momd.log.some((l) => String(l['msg']).startsWith('momd started')),
          'ready after the start',
        );
        // WatchdogSec 0.4 s: a ping every 0.2 s.
        const firstPing = await got('a watchdog ping', (m) => m.includes('WATCHDOG=1'));
        await got('another watchdog ping', (m) => m.includes('WATCHDOG=1'), firstPing + 1);

        let from = messages.length;
        momd.child.kill('SIGHUP');
        const reloading = await got('RELOADING=1', (m) => m.includes('RELOADING=1'), from);
        await got('READY=1 after the reload', (m) => m.split('\n').includes('READY=1'), reloading + 1);

        from = messages.length;
        assert.equal(await momd.stop(), 0, momd.stderr());
        await got('STOPPING=1', (m) => m.includes('STOPPING=1'), from);
        assert.ok(!momd.log.some((l) => l['code'] === 'MOM_W_NOTIFY'), 'no notification failed');
      } finally {
        await momd.stop();
      }
    } finally {
      listener.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
