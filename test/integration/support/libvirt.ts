// A real libvirtd for integration tests. This machine has no systemd: virtlogd and libvirtd are
// started by hand as root (in the foreground, as children of the test process, dying with it) when
// they are not running already, and stopped afterwards only if we started them. Guests are
// transient domains (`virsh create`) of type qemu (TCG) booting the testbed's guest image.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { guestImage, READY_MARKER, testbedCacheDir } from './guest-image.js';
import { parseReadyLine, readSerial, waitForSerialLine, type GuestReady } from './qemu.js';

export const LIBVIRT_URI = 'qemu:///system';
const MiB = 1024 * 1024;

export class VirshError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`virsh ${args.join(' ')} failed (${exitCode}): ${stderr.trim()}`);
    this.name = 'VirshError';
  }
}

/** Runs `virsh -c qemu:///system ARGS` and resolves with its stdout. */
export function virsh(args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'virsh',
      ['-c', LIBVIRT_URI, ...args],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err)
          reject(new VirshError(args, stderr || err.message, typeof err.code === 'number' ? err.code : null));
        else resolve(stdout);
      },
    );
  });
}

async function libvirtdAnswers(): Promise<boolean> {
  try {
    await virsh(['version'], 5000);
    return true;
  } catch {
    return false;
  }
}

/** A live process named `name` whose PID is in `pidFile`, or undefined. */
function livePid(pidFile: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name ? pid : undefined;
  } catch {
    return undefined;
  }
}

interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function startDaemon(name: string, log: string): Daemon {
  const fd = openSync(log, 'a');
  let child: ChildProcess;
  try {
    // Foreground, so that its PID is the one we hold; it gets SIGTERM if the test process dies.
    child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', name], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });
  return { name, child, exited };
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null || d.child.pid === undefined) return;
  try {
    process.kill(d.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([
    d.exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
  ]);
  if (!done) {
    try {
      process.kill(d.child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await d.exited;
  }
}

export interface LibvirtdHandle {
  /** The daemons this call started (empty when libvirtd was running already). */
  started: string[];
  /** Stops only the daemons this call started (libvirtd, then virtlogd). */
  stop(): Promise<void>;
}

/**
 * Makes sure libvirtd answers on qemu:///system: starts virtlogd (needed to create domains) and
 * libvirtd, as in /work/shared/notes/testbed.md but in the foreground, when they are not running,
 * and waits until `virsh -c qemu:///system version` answers (up to `timeoutMs`). Needs root.
 */
export async function ensureLibvirtd(timeoutMs = 60_000): Promise<LibvirtdHandle> {
  const virtlogdRunning = () => livePid('/run/virtlogd.pid', 'virtlogd') !== undefined;
  if (virtlogdRunning() && (await libvirtdAnswers())) return { started: [], stop: async () => undefined };
  await mkdir('/run/libvirt', { recursive: true });
  const logDir = join(testbedCacheDir(), 'libvirt');
  await mkdir(logDir, { recursive: true });
  const ours: Daemon[] = [];
  const stop = async () => {
    for (const d of [...ours].reverse()) await stopDaemon(d);
    ours.length = 0;
  };
  const exited = (d: Daemon) => d.child.exitCode !== null || d.child.signalCode !== null;
  const logTail = (d: Daemon) =>
    readText(join(logDir, `${d.name}.log`))
      .split('\n')
      .slice(-15)
      .join('\n');
  const deadline = Date.now() + timeoutMs;
  try {
    if (!virtlogdRunning()) {
      const d = startDaemon('virtlogd', join(logDir, 'virtlogd.log'));
      ours.push(d);
      while (!existsSync('/run/libvirt/virtlogd-sock')) {
        // Exited: lost a race with another starter (fine if theirs runs) or failed.
        if (exited(d) && !virtlogdRunning()) throw new Error(`libvirt: virtlogd exited; log:\n${logTail(d)}`);
        if (exited(d)) break;
        if (Date.now() >= deadline)
          throw new Error(`libvirt: no /run/libvirt/virtlogd-sock after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!(await libvirtdAnswers())) {
      const d =
        livePid('/run/libvirtd.pid', 'libvirtd') === undefined
          ? startDaemon('libvirtd', join(logDir, 'libvirtd.log'))
          : undefined;
      if (d) ours.push(d);
      while (!(await libvirtdAnswers())) {
        if (d && exited(d) && livePid('/run/libvirtd.pid', 'libvirtd') === undefined)
          throw new Error(
            `libvirt: libvirtd exited (${d.child.exitCode ?? d.child.signalCode}); log:\n${logTail(d)}`,
          );
        if (Date.now() >= deadline)
          throw new Error(`libvirt: virsh -c ${LIBVIRT_URI} version does not answer after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  // Keep only the daemons of ours that run (one that lost a start race has exited).
  const alive = ours.filter((d) => !exited(d));
  ours.splice(0, ours.length, ...alive);
  return { started: alive.map((d) => d.name), stop };
}

export interface DomainOptions {
  /** Domain name. Letters, digits, _ . - */
  name: string;
  /** <memory>: the maximum (what the guest boots with). */
  memoryMiB: number;
  /** <currentMemory>: the balloon target at start. Default memoryMiB. */
  currentMiB?: number;
  /** A virtio memballoon (else <memballoon model='none'/>). */
  balloon: boolean;
  /** <stats period='N'/> of the memballoon, seconds; 0 or undefined: no stats polling. */
  statsPeriod?: number;
  /** false: boot the image without the virtio_balloon driver. Default true. */
  balloonDriver?: boolean;
  /** The memballoon's freePageReporting. Default true. */
  freePageReporting?: boolean;
  /** memload arguments run by the guest's init (no spaces or quotes). */
  workload?: string[];
  /** A sparse swap disk of this size as /dev/vda. */
  swapMiB?: number;
  /** Folder for the serial log and swap disk; made 755 (the qemu user must reach it). */
  dir: string;
  vcpus?: number;
  /** TCG translation cache in MiB. Default 32. */
  tbSizeMiB?: number;
  /**
   * Guaranteed memory in MiB, written where oVirt's vdsm writes it (the domain metadata
   * ovirt-vm:minGuaranteedMemoryMb): libvirt's QEMU driver refuses <memtune><min_guarantee>.
   */
  guaranteeMiB?: number;
  /**
   * A QEMU guest agent channel (virtio-serial, org.qemu.guest_agent.0, its socket libvirt's own);
   * the guest's init runs qemu-ga on it (momagent=1). Default false.
   */
  agent?: boolean;
}

export interface DomainHandle {
  name: string;
  /** QEMU's PID (from /run/libvirt/qemu/NAME.pid). */
  pid: number | undefined;
  serialLog: string;
  xml: string;
  serial(): string;
  waitForSerial(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitForReady(timeoutMs?: number): Promise<GuestReady>;
  /** destroyDomain(name), then removes the swap disk. */
  destroy(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The domain XML for `opts` with the given image and file paths. */
export function domainXml(
  opts: DomainOptions,
  files: { kernel: string; initrd: string; serialLog: string; swapDisk?: string },
): string {
  const cmdline = ['console=ttyS0', 'quiet', 'panic=-1'];
  if (files.swapDisk) cmdline.push('momswap=1');
  if (opts.workload && opts.workload.length > 0) cmdline.push(`momload="${opts.workload.join(' ')}"`);
  if (opts.agent === true) cmdline.push('momagent=1');
  const agent =
    opts.agent === true
      ? `
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>`
      : '';
  const fpr = opts.freePageReporting === false ? 'off' : 'on';
  const balloon = opts.balloon
    ? `<memballoon model='virtio' freePageReporting='${fpr}'>` +
      (opts.statsPeriod !== undefined ? `<stats period='${opts.statsPeriod}'/>` : '') +
      `</memballoon>`
    : `<memballoon model='none'/>`;
  const swap = files.swapDisk
    ? `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='threads'/>
      <source file='${xmlEscape(files.swapDisk)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>`
    : '';
  const metadata =
    opts.guaranteeMiB === undefined
      ? ''
      : `
  <metadata>
    <ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0">
      <ovirt-vm:minGuaranteedMemoryMb type="int">${opts.guaranteeMiB}</ovirt-vm:minGuaranteedMemoryMb>
    </ovirt-vm:vm>
  </metadata>`;
  return `<domain type='qemu'>
  <name>${xmlEscape(opts.name)}</name>${metadata}
  <memory unit='KiB'>${opts.memoryMiB * 1024}</memory>
  <currentMemory unit='KiB'>${(opts.currentMiB ?? opts.memoryMiB) * 1024}</currentMemory>
  <vcpu>${opts.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${xmlEscape(files.kernel)}</kernel>
    <initrd>${xmlEscape(files.initrd)}</initrd>
    <cmdline>${xmlEscape(cmdline.join(' '))}</cmdline>
  </os>
  <features>
    <tcg><tb-cache unit='MiB'>${opts.tbSizeMiB ?? 32}</tb-cache></tcg>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='${xmlEscape(files.serialLog)}'/>
      <target port='0'/>
    </serial>${swap}${agent}
    ${balloon}
  </devices>
</domain>
`;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Writes the domain XML into `dir` and starts it as a transient domain (`virsh create`): type qemu
 * (TCG), direct kernel boot of the testbed image, the serial console in a file.
 */
export async function defineAndStartDomain(opts: DomainOptions): Promise<DomainHandle> {
  if (!/^[A-Za-z0-9_.-]+$/.test(opts.name)) throw new Error(`libvirt: bad domain name '${opts.name}'`);
  for (const arg of opts.workload ?? [])
    if (!arg || /[\s"'\\&<>]/.test(arg))
      throw new Error(`libvirt: workload argument '${arg}' has spaces or quotes`);
  const image = await guestImage({ balloonDriver: opts.balloonDriver ?? true });
  await mkdir(opts.dir, { recursive: true });
  await chmod(opts.dir, 0o755);
  const serialLog = join(opts.dir, `${opts.name}.serial.log`);
  await rm(serialLog, { force: true });
  let swapDisk: string | undefined;
  if (opts.swapMiB !== undefined && opts.swapMiB > 0) {
    swapDisk = join(opts.dir, `${opts.name}.swap.img`);
    const fh = await open(swapDisk, 'w', 0o644);
    try {
      await fh.truncate(opts.swapMiB * MiB);
    } finally {
      await fh.close();
    }
  }
  const xml = domainXml(opts, { kernel: image.kernel, initrd: image.initrd, serialLog, swapDisk });
  const xmlPath = join(opts.dir, `${opts.name}.xml`);
  await writeFile(xmlPath, xml, { mode: 0o644 });
  await virsh(['create', xmlPath], 60_000);

  const pidFile = `/run/libvirt/qemu/${opts.name}.pid`;
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined;
  const handle: DomainHandle = {
    name: opts.name,
    pid,
    serialLog,
    xml,
    serial: () => readSerial(serialLog),
    waitForSerial: (re, timeoutMs = 30_000) =>
      waitForSerialLine(serialLog, re, timeoutMs, `libvirt domain ${opts.name}`),
    async waitForReady(timeoutMs = 60_000) {
      const m = await handle.waitForSerial(new RegExp(`^${READY_MARKER}\\b.*$`, 'm'), timeoutMs);
      return parseReadyLine(m[0]);
    },
    async destroy() {
      await destroyDomain(opts.name);
      if (swapDisk) await rm(swapDisk, { force: true });
    },
  };
  return handle;
}

/** Destroys (stops; a transient domain then disappears) domain `name`; false if it did not exist. */
export async function destroyDomain(name: string): Promise<boolean> {
  try {
    await virsh(['destroy', name]);
    return true;
  } catch (err) {
    if (err instanceof VirshError && /not found|no domain|not running/i.test(err.stderr)) return false;
    throw err;
  }
}

/** Names of the running domains. */
export async function listDomains(): Promise<string[]> {
  return (await virsh(['list', '--name']))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * `virsh domstats --balloon` (all running domains, or the ones named), parsed:
 * { DOMAIN: { 'balloon.current': 262144, ... } } (values in KiB or counts, as virsh prints them).
 */
export async function balloonStats(names: string[] = []): Promise<Record<string, Record<string, number>>> {
  const out = await virsh(['domstats', '--balloon', ...names]);
  const result: Record<string, Record<string, number>> = {};
  let current: Record<string, number> | undefined;
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    const dom = /^Domain: '(.*)'$/.exec(line);
    if (dom) {
      current = {};
      result[dom[1] as string] = current;
      continue;
    }
    const kv = /^([^=]+)=(.*)$/.exec(line);
    if (kv && current) current[kv[1] as string] = Number(kv[2]);
  }
  return result;
}
