// systemd's service notification (Type=notify): READY=1 once momd runs, RELOADING=1 and READY=1
// around a SIGHUP reload, STOPPING=1 on the way out, and WATCHDOG=1 every half WatchdogSec while
// the event loop runs (a blocked loop stops the pings and systemd restarts momd).
//
// Sent through `systemd-notify`, not a socket of our own: Node has no unix datagram sockets, and
// the npm packages that add them (unix-dgram, sd-notify) are native addons compiled at install
// time on every host. systemd-notify comes with systemd wherever NOTIFY_SOCKET is set, and by
// default waits (BARRIER=1) until the manager has processed the message, so the message is
// credited to momd's unit although its sender exits at once. The cost is one short process at
// start, reload and stop, and per watchdog ping. One process at a time: two racing processes can
// deliver RELOADING=1 after the READY=1 that ends the reload, and systemd would think momd is
// still reloading. A watchdog ping while a message is on its way is skipped, not queued.
import { execFile } from 'node:child_process';

export type ExecFile = (file: string, args: readonly string[], done: (err: Error | null) => void) => void;

export interface SystemdNotifier {
  /** Sends KEY=VALUE pairs; a failure is warned about once, then further failures are quiet. */
  notify(vars: Readonly<Record<string, string>>): Promise<void>;
  /** Starts the watchdog pings when systemd asked for them (WATCHDOG_USEC for this process); once. */
  startWatchdog(): void;
  stop(): void;
}

/** A notifier when momd runs under systemd with Type=notify (NOTIFY_SOCKET set), else null. */
export function systemdNotifier(
  env: NodeJS.ProcessEnv,
  onWarning: (message: string) => void,
  exec: ExecFile = (file, args, done) =>
    void execFile(file, [...args], { timeout: 10_000 }, (err) => done(err)),
  pid: number = process.pid,
): SystemdNotifier | null {
  if (!env['NOTIFY_SOCKET']) return null;
  let warned = false;
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<void> = Promise.resolve();
  let pending = 0;
  const send = (vars: Readonly<Record<string, string>>): Promise<void> =>
    new Promise((resolve) => {
      const args = [`--pid=${pid}`, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
      exec('systemd-notify', args, (err) => {
        if (err && !warned) {
          warned = true;
          onWarning(
            `cannot notify systemd (NOTIFY_SOCKET=${env['NOTIFY_SOCKET']}) through systemd-notify: ${err.message}`,
          );
        }
        resolve();
      });
    });
  const notify = (vars: Readonly<Record<string, string>>): Promise<void> => {
    pending++;
    last = last.then(() => send(vars)).finally(() => void pending--);
    return last;
  };
  return {
    notify,
    startWatchdog() {
      if (timer !== undefined) return;
      const usec = Number(env['WATCHDOG_USEC']);
      const forPid = env['WATCHDOG_PID'];
      if (!Number.isFinite(usec) || usec <= 0 || (forPid !== undefined && Number(forPid) !== pid)) return;
      timer = setInterval(() => void (pending === 0 && notify({ WATCHDOG: '1' })), Math.max(usec / 2000, 50));
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
