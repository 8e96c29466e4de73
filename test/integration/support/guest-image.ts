// Builds the integration tests' guest image at test time: the host's Debian guest kernel and an
// initramfs (cpio newc, gzip) with a static busybox, our /init, the virtio modules and memload.
// Built images are cached outside the repository, keyed by a hash of everything that goes in, so
// only the first run on a machine pays for the build (a second or two).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';

const execFileP = promisify(execFile);

/** The line /init prints on the serial console once the guest is ready (modules, swap). */
export const READY_MARKER = 'MOMD-GUEST-READY';

/** Bumped when the layout of the image changes in a way the hashed inputs do not show. */
const BUILDER_VERSION = '1';

/** Virtio modules in the order the guest must load them (see /work/shared/notes/testbed.md). */
export const GUEST_MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'virtio_blk',
  'virtio_balloon',
  'virtio_console',
] as const;

export interface GuestImage {
  /** The guest kernel (a world-readable copy of /boot/vmlinuz-KVER). */
  kernel: string;
  /** The initramfs for this variant. */
  initrd: string;
  kernelVersion: string;
  /** The static memload binary (also inside the initramfs as /bin/memload); usable on the host too. */
  memload: string;
  /** The cache folder holding this image. */
  dir: string;
}

export interface GuestImageOptions {
  /** false: the variant without virtio_balloon.ko, for "a guest without a balloon driver". Default true. */
  balloonDriver?: boolean;
}

/**
 * The guest's /init. Kernel command-line parameters it understands (unknown `key=value`
 * parameters reach init as environment variables):
 * - `momload="ARGS"`: run `/bin/memload ARGS` in the foreground once ready (its lines go to the
 *   serial console); after it exits, the guest idles.
 * - `momswap=1`: a swap disk is attached: wait up to 10 s for /dev/vda. Whether or not it is given,
 *   /dev/vda, when present, is made swap (mkswap + swapon).
 * - `momagent=1`: a virtio-serial port named org.qemu.guest_agent.0 is attached: wait up to 5 s
 *   for it and run the QEMU guest agent on it (Debian's qemu-ga with its libraries, copied into
 *   the image when the host has it), as a guest with qemu-guest-agent installed does.
 * - `momcache=MIB`: once ready, before memload, read the first MIB MiB of /dev/vda into the page
 *   cache (a guest that holds cached data it does not use; the overcommit benchmark's idle guests).
 *
 * Every second it prints its own view of its memory (`MOMD-GUEST-MEMINFO`) and, on the next line,
 * its paging counters from /proc/vmstat (`MOMD-GUEST-VMSTAT pswpin=… pswpout=… pgmajfault=…`,
 * in pages and faults since boot).
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp
for m in ${GUEST_MODULES.join(' ')}; do
  if [ -f /lib/modules/$m.ko ]; then
    insmod /lib/modules/$m.ko || echo "momd-guest: insmod $m failed"
  fi
done
if [ "$momswap" = 1 ]; then
  i=0
  while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
swap_kib=0
if [ -b /dev/vda ]; then
  if mkswap /dev/vda >/dev/null 2>&1 && swapon /dev/vda; then
    swap_kib=$(awk '/^SwapTotal:/ { print $2 }' /proc/meminfo)
  else
    echo "momd-guest: swap on /dev/vda failed"
  fi
fi
agent=0
if [ "$momagent" = 1 ] && [ -x /usr/sbin/qemu-ga ]; then
  i=0
  port=''
  while [ -z "$port" ] && [ $i -lt 50 ]; do
    for p in /sys/class/virtio-ports/*; do
      [ -f "$p/name" ] && [ "$(cat "$p/name")" = org.qemu.guest_agent.0 ] && port=/dev/\${p##*/}
    done
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
  done
  mkdir -p /tmp/qga
  if [ -n "$port" ] && /usr/sbin/qemu-ga -m virtio-serial -p "$port" -t /tmp/qga -f /tmp/qga/qemu-ga.pid -d; then
    agent=1
  else
    echo "momd-guest: no agent port, or qemu-ga failed"
  fi
fi
balloon=0
[ -d /sys/bus/virtio/drivers/virtio_balloon ] && balloon=1
mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
echo "${READY_MARKER} kernel=$(uname -r) balloon_driver=$balloon mem_total_kib=$mem_kib swap_kib=$swap_kib agent=$agent"
# The guest's own view of its memory every second, for tests to compare with what momd reads, and
# its paging counters, for the overcommit benchmark.
( while true; do
    awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } /^MemAvailable:/ { a = $2 }
         END { print "MOMD-GUEST-MEMINFO total_kib=" t " free_kib=" f " avail_kib=" a }' /proc/meminfo
    awk '/^pswpin / { i = $2 } /^pswpout / { o = $2 } /^pgmajfault / { m = $2 }
         END { print "MOMD-GUEST-VMSTAT pswpin=" i " pswpout=" o " pgmajfault=" m }' /proc/vmstat
    sleep 1
  done ) &
if [ -n "$momcache" ] && [ -b /dev/vda ]; then
  dd if=/dev/vda of=/dev/null bs=1M count="$momcache" 2>/dev/null
  echo "momd-guest: read $momcache MiB of /dev/vda into the page cache"
fi
if [ -n "$momload" ]; then
  /bin/memload $momload
  echo "momd-guest: memload exited with status $?"
fi
while true; do sleep 3600; done
`;

/** The repository's root (the folder with package.json), from this file in src or in dist. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'integration'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('guest-image: cannot find the repository root above ' + import.meta.url);
    dir = up;
  }
}

/**
 * Where built images (and other testbed files that the libvirt-qemu user must read) live: outside
 * git, world-readable. MOMD_TESTBED_CACHE overrides the default /var/tmp/momd-testbed (not
 * $XDG_CACHE_HOME: /root/.cache is not readable by libvirt's qemu user).
 */
export function testbedCacheDir(): string {
  return process.env.MOMD_TESTBED_CACHE || '/var/tmp/momd-testbed';
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The guest kernel: MOMD_TESTBED_KERNEL_VERSION, else the newest /boot/vmlinuz-* that has modules. */
export function guestKernelVersion(): string {
  const wanted = process.env.MOMD_TESTBED_KERNEL_VERSION;
  const candidates = (existsSync('/boot') ? readdirSync('/boot') : [])
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join('/lib/modules', v, 'modules.dep')))
    .sort(compareVersions);
  if (wanted) {
    if (!candidates.includes(wanted))
      throw new Error(
        `guest-image: MOMD_TESTBED_KERNEL_VERSION=${wanted} has no /boot/vmlinuz-${wanted} with modules`,
      );
    return wanted;
  }
  const newest = candidates.at(-1);
  if (!newest)
    throw new Error(
      'guest-image: no guest kernel (/boot/vmlinuz-* with /lib/modules/*/modules.dep); ' +
        'install linux-image-amd64 (scripts/ensure-system-packages.sh)',
    );
  return newest;
}

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

function busyboxPath(): string {
  const found = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      'guest-image: no static busybox; install busybox-static (scripts/ensure-system-packages.sh)',
    );
  return found;
}

/** The path of a module of kernel `kver` (possibly compressed), found by modinfo, else by name. */
async function modulePath(kver: string, name: string): Promise<string> {
  try {
    const { stdout } = await execFileP('modinfo', ['-k', kver, '-n', name]);
    const p = stdout.trim();
    if (p && existsSync(p)) return p;
  } catch {
    // fall through to a search
  }
  const base = join('/lib/modules', kver, 'kernel');
  const found = findFile(base, (f) => /^(.*)\.ko(\.xz|\.zst|\.gz)?$/.exec(f)?.[1] === name);
  if (!found) throw new Error(`guest-image: module ${name} not found under ${base}`);
  return found;
}

function findFile(dir: string, match: (name: string) => boolean): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, match);
      if (found) return found;
    } else if (match(entry.name)) return p;
  }
  return undefined;
}

/** A module's .ko bytes, decompressed if the kernel package ships them compressed. */
async function moduleBytes(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.ko.gz')) return gunzipSync(readFileSync(path));
  const tool = path.endsWith('.ko.xz') ? 'xz' : path.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) throw new Error(`guest-image: unknown module format ${path}`);
  const { stdout } = await execFileP(tool, ['-dc', path], { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

function sha256(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

interface Inputs {
  kver: string;
  vmlinuz: string;
  busybox: string;
  memloadSource: string;
  modules: Map<string, string>;
  /** The host's qemu-ga and the shared libraries it loads (ldd), when the host has it. */
  agentFiles: string[];
  key: string;
}

/** /usr/sbin/qemu-ga and every library ldd lists for it (loader included); [] without qemu-ga. */
async function agentFiles(): Promise<string[]> {
  const ga = ['/usr/sbin/qemu-ga', '/usr/bin/qemu-ga'].find((p) => existsSync(p));
  if (ga === undefined) return [];
  const { stdout } = await execFileP('ldd', [ga]);
  const libs = stdout
    .split('\n')
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  return [ga, ...libs];
}

/** Tools the image build runs (gcc needs libc6-dev's libc.a for -static). */
const BUILD_TOOLS = ['gcc', 'cpio', 'find', 'sort', 'sh'];

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

async function gatherInputs(): Promise<Inputs> {
  const missing = BUILD_TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0)
    throw new Error(
      `guest-image: ${missing.join(', ')} not found; install gcc, libc6-dev and cpio (scripts/ensure-system-packages.sh)`,
    );
  const kver = guestKernelVersion();
  const vmlinuz = join('/boot', `vmlinuz-${kver}`);
  const busybox = busyboxPath();
  const memloadSource = join(repoRoot(), 'test', 'integration', 'guest', 'memload.c');
  const modules = new Map<string, string>();
  for (const m of GUEST_MODULES) modules.set(m, await modulePath(kver, m));
  const kst = statSync(vmlinuz);
  const bst = statSync(busybox);
  const moduleStats = [...modules.values()].map((p) => `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`);
  const agent = await agentFiles();
  const agentStats = agent.map((p) => `${p}:${statSync(p).size}:${statSync(p).mtimeMs}`);
  const key = sha256(
    BUILDER_VERSION,
    kver,
    `${kst.size}:${kst.mtimeMs}`,
    `${bst.size}:${bst.mtimeMs}`,
    readFileSync(memloadSource),
    INIT_SCRIPT,
    ...moduleStats,
    ...agentStats,
  ).slice(0, 16);
  return { kver, vmlinuz, busybox, memloadSource, modules, agentFiles: agent, key };
}

async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<void> {
  try {
    await execFileP(cmd, args, { ...opts, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`guest-image: ${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** Writes a gzip'd cpio (newc) of folder `root` to `out`, entries sorted, owned by root. */
async function packInitramfs(root: string, out: string): Promise<void> {
  const cpioOut = out + '.cpio';
  // find | sort | cpio, through sh: the list must be piped in, and sorting makes the archive stable.
  await run('sh', [
    '-c',
    'cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible > "$2"',
    'sh',
    root,
    cpioOut,
  ]);
  await writeFile(out, gzipSync(readFileSync(cpioOut), { level: 6 }));
  await rm(cpioOut);
}

async function buildStaging(
  inputs: Inputs,
  root: string,
  memload: string,
  balloonDriver: boolean,
): Promise<void> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'lib/modules', 'root'])
    await mkdir(join(root, d), { recursive: true });
  await copyFile(inputs.busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const { stdout } = await execFileP(inputs.busybox, ['--list-full']);
  for (const applet of stdout.split('\n').map((l) => l.trim())) {
    if (!applet || applet === 'bin/busybox' || applet.includes('..')) continue;
    const link = join(root, applet);
    if (existsSync(link)) continue;
    await mkdir(dirname(link), { recursive: true });
    await symlink('/bin/busybox', link);
  }
  await copyFile(memload, join(root, 'bin/memload'));
  await chmod(join(root, 'bin/memload'), 0o755);
  for (const [name, path] of inputs.modules) {
    if (name === 'virtio_balloon' && !balloonDriver) continue;
    await writeFile(join(root, 'lib/modules', `${name}.ko`), await moduleBytes(path), { mode: 0o644 });
  }
  // qemu-ga at its own path, its libraries at theirs (the real files, not the symlinks).
  for (const f of inputs.agentFiles) {
    await mkdir(join(root, dirname(f)), { recursive: true });
    await copyFile(realpathSync(f), join(root, f));
    await chmod(join(root, f), 0o755);
  }
  await writeFile(join(root, 'init'), INIT_SCRIPT, { mode: 0o755 });
}

async function build(inputs: Inputs, finalDir: string): Promise<void> {
  const cache = dirname(finalDir);
  await mkdir(cache, { recursive: true, mode: 0o755 });
  await chmod(cache, 0o755);
  const tmp = join(cache, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o755 });
  try {
    const memload = join(tmp, 'memload');
    await run('gcc', ['-static', '-O2', '-Wall', '-o', memload, inputs.memloadSource]);
    await copyFile(inputs.vmlinuz, join(tmp, 'vmlinuz'));
    await chmod(join(tmp, 'vmlinuz'), 0o644);
    for (const balloonDriver of [true, false]) {
      const staging = join(tmp, balloonDriver ? 'root' : 'root-noballoon');
      await buildStaging(inputs, staging, memload, balloonDriver);
      const out = join(tmp, initrdName(balloonDriver));
      await packInitramfs(staging, out);
      await chmod(out, 0o644);
      await rm(staging, { recursive: true, force: true });
    }
    await writeFile(
      join(tmp, 'manifest.json'),
      JSON.stringify(
        { key: inputs.key, kernelVersion: inputs.kver, builtAt: new Date().toISOString() },
        null,
        2,
      ) + '\n',
      { mode: 0o644 },
    );
    await chmod(tmp, 0o755);
    try {
      await rename(tmp, finalDir);
    } catch (err) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(join(finalDir, 'manifest.json'))) throw err;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function initrdName(balloonDriver: boolean): string {
  return balloonDriver ? 'initrd.img' : 'initrd-noballoon.img';
}

let pending: Promise<{ dir: string; kver: string }> | undefined;

async function ensureBuilt(): Promise<{ dir: string; kver: string }> {
  const inputs = await gatherInputs();
  const dir = join(testbedCacheDir(), `image-${inputs.key}`);
  if (!existsSync(join(dir, 'manifest.json'))) await build(inputs, dir);
  return { dir, kver: inputs.kver };
}

/**
 * The guest image ({ kernel, initrd } and more), built on first use and cached under
 * testbedCacheDir()/image-HASH. Every file is world-readable and every folder 755, so libvirt's
 * qemu user can boot it too.
 */
export async function guestImage(opts: GuestImageOptions = {}): Promise<GuestImage> {
  pending ??= ensureBuilt().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  const { dir, kver } = await pending;
  return {
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, initrdName(opts.balloonDriver ?? true)),
    kernelVersion: kver,
    memload: join(dir, 'memload'),
    dir,
  };
}

/** Removes cached images other than the current one (housekeeping; not called by tests). */
export async function pruneImageCache(): Promise<string[]> {
  const { dir } = await guestImage();
  const removed: string[] = [];
  for (const name of await readdir(testbedCacheDir())) {
    const p = join(testbedCacheDir(), name);
    if (name.startsWith('image-') && p !== dir) {
      await rm(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}
