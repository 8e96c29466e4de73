// Real QEMU guests for integration tests: TCG by default (this project's machines have no vmx/svm;
// accel: 'kvm' where /dev/kvm is usable, for the benchmark on a KVM host), the
// busybox guest image from guest-image.ts, the serial console in a file, 1-2 QMP sockets (a QMP
// socket serves one client at a time: one for the daemon, one for the test), optionally a sparse
// swap disk and a memory cgroup entered before QEMU touches any memory. Each QEMU dies with the
// test process (setpriv --pdeathsig KILL) and stop() ends only its own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { guestImage, READY_MARKER, testbedCacheDir } from './guest-image.js';
import type { MemoryCgroup } from './cgroup.js';
import { qmpOnce } from './qmp.js';

export { createMemoryCgroup, memoryCgroupOf, memoryCgroupSupport } from './cgroup.js';
export type { CgroupVersion, MemoryCgroup } from './cgroup.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

export type Accel = 'tcg' | 'kvm';

/** Whether this process can run KVM guests: /dev/kvm exists and is readable and writable. */
export function kvmUsable(device = '/dev/kvm'): boolean {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * QEMU's accelerator arguments. Under KVM the guest sees the host's CPU (-cpu host) and there is
 * no translation cache; under TCG the cache is tbSizeMiB.
 */
export function accelArgs(accel: Accel, tbSizeMiB: number): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', `tcg,tb-size=${tbSizeMiB}`];
}

export interface StartGuestOptions {
  /** The guest's name (QEMU -name); also names its files in `dir`. Letters, digits, _ . - */
  name: string;
  /** The guest's memory in MiB: what it boots with, or, with maxMemoryMiB, its balloon target at start. */
  memoryMiB: number;
  /**
   * Boot with this much memory (-m) and set the balloon target to memoryMiB right after start, as
   * libvirt does with <memory> and <currentMemory>. Needs balloon: true.
   */
  maxMemoryMiB?: number;
  /** Attach a virtio-balloon device (id balloon0). */
  balloon: boolean;
  /** false: boot the image without the virtio_balloon driver (the device stays). Default true. */
  balloonDriver?: boolean;
  /** The balloon's free-page-reporting property. Default true. */
  freePageReporting?: boolean;
  /** When set (seconds), enable the balloon's guest-stats polling at start through QMP. */
  statsPollingIntervalS?: number;
  /** Attach a sparse raw disk of this size as /dev/vda; the guest makes it swap at boot. */
  swapMiB?: number;
  /** memload arguments, run by the guest's init once ready (e.g. ['--mib', '200']). No spaces or quotes. */
  workload?: string[];
  /** How many QMP sockets (1-4). Default 1. */
  qmpSockets?: number;
  /** A memory cgroup (folder or createMemoryCgroup() result) QEMU enters before it starts. */
  cgroup?: string | MemoryCgroup;
  /** Folder for the serial log, QEMU's log, QMP sockets and the swap disk (must exist). */
  dir: string;
  /** vCPUs. Default 1. */
  smp?: number;
  /** TCG translation cache in MiB. Default 32 (saves ~30 MiB per guest over QEMU's default). */
  tbSizeMiB?: number;
  /** The accelerator: 'tcg' (default) or 'kvm' (needs a usable /dev/kvm, see kvmUsable()). */
  accel?: Accel;
  /** More kernel command-line parameters. */
  kernelArgs?: string[];
  /** More QEMU arguments. */
  qemuArgs?: string[];
}

export interface GuestReady {
  line: string;
  kernel: string;
  balloonDriver: boolean;
  memTotalKiB: number;
  swapKiB: number;
}

export interface GuestHandle {
  name: string;
  pid: number;
  /** QMP unix sockets, one per client. */
  qmpPaths: string[];
  serialLog: string;
  /** QEMU's own stdout and stderr. */
  qemuLog: string;
  swapDisk: string | undefined;
  /** The full QEMU command line. */
  argv: string[];
  /** Settles when the QEMU process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** The serial console so far (\r removed). */
  serial(): string;
  /** Resolves with the first match of `re` in the serial console; rejects on timeout or QEMU exit. */
  waitForSerial(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Waits for the READY line of the guest's init and parses it. */
  waitForReady(timeoutMs?: number): Promise<GuestReady>;
  /** Ends this QEMU (SIGTERM, then SIGKILL after 5 s) and removes its sockets and swap disk. */
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort if a test forgets stop(): the test process's exit kills its guests (by PID). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
}

function tail(text: string, lines = 20): string {
  return text.split('\n').slice(-lines).join('\n');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A serial console log as text, without the \r the guest's tty adds before each \n. */
export function readSerial(path: string): string {
  return readText(path).replace(/\r/g, '');
}

/**
 * Waits for `re` on a serial console log (polling every 100 ms). `gone` tells why waiting is
 * pointless (the guest exited); `who` names the guest in the timeout message.
 */
export async function waitForSerialLine(
  serialLog: string,
  re: RegExp,
  timeoutMs: number,
  who: string,
  gone: () => string | undefined = () => undefined,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(readSerial(serialLog));
    if (m) return m;
    const why = gone();
    if (why !== undefined) throw new Error(`waiting for ${re}: ${why}`);
    if (Date.now() >= deadline) {
      throw new Error(
        `${who}: ${re} not on the serial console within ${timeoutMs} ms; serial:\n` +
          tail(readSerial(serialLog)),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parses the guest's READY line. */
export function parseReadyLine(line: string): GuestReady {
  const field = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1] ?? '';
  return {
    line,
    kernel: field('kernel'),
    balloonDriver: field('balloon_driver') === '1',
    memTotalKiB: Number(field('mem_total_kib')),
    swapKiB: Number(field('swap_kib')),
  };
}

/** Starts a guest; resolves once QEMU runs and its QMP sockets exist (the guest is still booting). */
export async function startGuest(opts: StartGuestOptions): Promise<GuestHandle> {
  if (!/^[A-Za-z0-9_.-]+$/.test(opts.name)) throw new Error(`qemu: bad guest name '${opts.name}'`);
  const qmpCount = opts.qmpSockets ?? 1;
  if (!Number.isInteger(qmpCount) || qmpCount < 1 || qmpCount > 4) throw new Error('qemu: qmpSockets is 1-4');
  const bootMiB = opts.maxMemoryMiB ?? opts.memoryMiB;
  if (opts.maxMemoryMiB !== undefined) {
    if (!opts.balloon) throw new Error('qemu: maxMemoryMiB needs balloon: true');
    if (opts.maxMemoryMiB < opts.memoryMiB) throw new Error('qemu: maxMemoryMiB < memoryMiB');
  }
  for (const arg of opts.workload ?? [])
    if (!arg || /[\s"'\\]/.test(arg))
      throw new Error(`qemu: workload argument '${arg}' has spaces or quotes`);

  const image = await guestImage({ balloonDriver: opts.balloonDriver ?? true });
  await mkdir(opts.dir, { recursive: true });
  const serialLog = join(opts.dir, `${opts.name}.serial.log`);
  const qemuLog = join(opts.dir, `${opts.name}.qemu.log`);
  const qmpPaths = Array.from({ length: qmpCount }, (_, i) => join(opts.dir, `${opts.name}.qmp${i}.sock`));
  for (const p of qmpPaths) {
    if (Buffer.byteLength(p) > 107) throw new Error(`qemu: socket path too long for a unix socket: ${p}`);
    await rm(p, { force: true });
  }
  await rm(serialLog, { force: true });

  let swapDisk: string | undefined;
  if (opts.swapMiB !== undefined && opts.swapMiB > 0) {
    // cache=none needs O_DIRECT, which tmpfs lacks (and a tmpfs file would be host RAM anyway).
    let swapDir = opts.dir;
    if (statfsSync(opts.dir).type === TMPFS_MAGIC) {
      swapDir = join(testbedCacheDir(), 'swap');
      await mkdir(swapDir, { recursive: true });
    }
    swapDisk = join(swapDir, `${opts.name}-${process.pid}.swap.img`);
    const fh = await open(swapDisk, 'w', 0o600);
    try {
      await fh.truncate(opts.swapMiB * MiB);
    } finally {
      await fh.close();
    }
  }

  const append = ['console=ttyS0', 'quiet', 'panic=-1'];
  if (swapDisk) append.push('momswap=1');
  if (opts.workload && opts.workload.length > 0) append.push(`momload="${opts.workload.join(' ')}"`);
  append.push(...(opts.kernelArgs ?? []));

  const args = [
    '-name',
    opts.name,
    ...accelArgs(opts.accel ?? 'tcg', opts.tbSizeMiB ?? 32),
    '-machine',
    'pc',
    '-m',
    String(bootMiB),
    '-smp',
    String(opts.smp ?? 1),
    // -nographic without its side effects: no default devices, no display, no monitor on stdio.
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    append.join(' '),
    '-serial',
    `file:${serialLog}`,
  ];
  if (opts.balloon)
    args.push(
      '-device',
      `virtio-balloon-pci,id=balloon0,free-page-reporting=${opts.freePageReporting === false ? 'off' : 'on'}`,
    );
  if (swapDisk)
    args.push(
      '-drive',
      `file=${swapDisk},if=none,id=swap0,format=raw,cache=none,aio=threads`,
      '-device',
      'virtio-blk-pci,drive=swap0',
    );
  for (const p of qmpPaths) args.push('-qmp', `unix:${p},server=on,wait=off`);
  args.push(...(opts.qemuArgs ?? []));

  const cgroupPath = typeof opts.cgroup === 'string' ? opts.cgroup : opts.cgroup?.path;
  // setpriv sets PR_SET_PDEATHSIG (kept across exec) and execs; with a cgroup, sh writes its own
  // PID (which becomes QEMU's: exec keeps it) to cgroup.procs before exec'ing QEMU.
  const argv = cgroupPath
    ? [
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        'sh',
        '-c',
        'echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@"',
        'sh',
        cgroupPath,
        QEMU_BINARY,
        ...args,
      ]
    : ['setpriv', '--pdeathsig', 'KILL', '--', QEMU_BINARY, ...args];

  const logFd = openSync(qemuLog, 'w');
  let child: ChildProcess;
  try {
    child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  installExitHook();
  running.add(child);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(child);
      resolve(exitInfo);
    });
    child.on('error', (err) => {
      spawnError = err;
      exitInfo = { code: -1, signal: null };
      running.delete(child);
      resolve(exitInfo);
    });
  });
  // Do not keep the test process alive for a forgotten guest (the exit hook and pdeathsig end it).
  child.unref();

  const describeExit = () =>
    `qemu guest ${opts.name} exited (${exitInfo?.signal ?? `code ${exitInfo?.code}`}); ` +
    `QEMU log:\n${tail(readText(qemuLog))}\nserial:\n${tail(readSerial(serialLog))}`;

  let stopped = false;
  const handle: GuestHandle = {
    name: opts.name,
    pid: child.pid ?? -1,
    qmpPaths,
    serialLog,
    qemuLog,
    swapDisk,
    argv,
    exited,
    running: () => exitInfo === undefined,
    serial: () => readSerial(serialLog),
    waitForSerial: (re, timeoutMs = 30_000) =>
      waitForSerialLine(serialLog, re, timeoutMs, `qemu guest ${opts.name}`, () =>
        exitInfo === undefined ? undefined : describeExit(),
      ),
    async waitForReady(timeoutMs = 60_000) {
      const m = await handle.waitForSerial(new RegExp(`^${READY_MARKER}\\b.*$`, 'm'), timeoutMs);
      return parseReadyLine(m[0]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (exitInfo === undefined && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // exited meanwhile
        }
        const killed = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
        ]);
        if (!killed) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
          await exited;
        }
      }
      for (const p of qmpPaths) await rm(p, { force: true });
      if (swapDisk) await rm(swapDisk, { force: true });
    },
  };

  if (child.pid === undefined) {
    await exited;
    throw new Error(
      `qemu: could not start ${argv[0]} (${spawnError?.message}): is util-linux's setpriv installed?`,
    );
  }

  try {
    // QEMU creates its QMP sockets (server=on,wait=off) early in its start-up.
    const deadline = Date.now() + 15_000;
    while (!qmpPaths.every((p) => existsSync(p))) {
      if (exitInfo !== undefined) throw new Error(describeExit());
      if (Date.now() >= deadline) throw new Error(`qemu guest ${opts.name}: no QMP socket after 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const qmp = qmpPaths[0] as string;
    if (opts.maxMemoryMiB !== undefined && opts.maxMemoryMiB !== opts.memoryMiB)
      await qmpOnce(qmp, 'balloon', { value: opts.memoryMiB * MiB });
    if (opts.statsPollingIntervalS !== undefined) {
      if (!opts.balloon) throw new Error('qemu: statsPollingIntervalS needs balloon: true');
      await qmpOnce(qmp, 'qom-set', {
        path: '/machine/peripheral/balloon0',
        property: 'guest-stats-polling-interval',
        value: opts.statsPollingIntervalS,
      });
    }
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

/** Stops every guest given, in parallel, even if some stop() calls fail; rethrows the first error. */
export async function stopAll(guests: Array<GuestHandle | undefined>): Promise<void> {
  const results = await Promise.allSettled(guests.map((g) => g?.stop()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
