// Test support, not used by momd: a virsh that keeps a few domains in memory and answers the
// commands the libvirt backend runs (list, domstats, setmem, dumpxml, dommemstat, schedinfo,
// blkdeviotune, suspend, resume) in virsh 9.0's output formats, failing as virsh does (through the
// same classification as the real runner). A domain may lack a balloon driver (targets are taken
// and nothing moves), may be paused, and may be stopped.
import { IO_TUNE_KEYS, type IoTuneValues, NO_IO_LIMITS } from '../../src/fields/io-tune.js';
import { classifyVirshFailure, type VirshRunner } from '../../src/hypervisors/libvirt/virsh.js';

/** A disk of a fake domain: target, source file, and its throttle in force. */
export interface FakeDisk {
  readonly name: string;
  readonly path: string;
  limits: IoTuneValues;
}

const NO_THROTTLE = NO_IO_LIMITS;

/** A fake disk with no throttle. */
export const fakeDisk = (name: string, path = `/var/lib/images/${name}.img`): FakeDisk => ({
  name,
  path,
  limits: { ...NO_THROTTLE },
});

export interface FakeDomain {
  readonly uuid: string;
  readonly name: string;
  readonly maxKib: number;
  curKib: number;
  /** false: no balloon driver in the guest. */
  readonly driver: boolean;
  /** The guaranteed memory written in its XML (KiB), as oVirt does; null for none. */
  readonly guaranteeKib: number | null;
  running: boolean;
  /** Its vCPUs are stopped (virsh suspend); it is still running (listed, read). */
  paused?: boolean;
  /** Unix seconds of the driver's last statistics; 0 when it never reported. */
  lastUpdate: number;
  /** vCPUs (default 1), and the vCPU quota (-1: none) and period of schedinfo. */
  vcpus?: number;
  quota?: number;
  period?: number;
  /** Its disks (default none). */
  disks?: FakeDisk[];
  /** The XML of oVirt's tune metadata (<ovirt-tune:qos>...), when it has one. */
  qos?: string;
}

export class FakeVirsh {
  readonly domains: FakeDomain[] = [];
  readonly calls: string[][] = [];

  add(d: Omit<FakeDomain, 'curKib' | 'running' | 'lastUpdate'> & Partial<FakeDomain>): FakeDomain {
    const dom: FakeDomain = {
      curKib: d.maxKib,
      running: true,
      lastUpdate: d.driver ? Math.floor(Date.now() / 1000) : 0,
      ...d,
    };
    this.domains.push(dom);
    return dom;
  }

  readonly run: VirshRunner = async (args, signal) => {
    signal?.throwIfAborted();
    this.calls.push(args);
    const command = `virsh ${args.join(' ')}`;
    const fail = (stderr: string): never => {
      throw classifyVirshFailure(command, stderr);
    };
    const find = (ref: string | undefined): FakeDomain => {
      const d = this.domains.find((x) => x.uuid === ref || x.name === ref);
      if (d === undefined) fail(`error: failed to get domain '${ref}'\n`);
      return d as FakeDomain;
    };
    const running = (ref: string | undefined): FakeDomain => {
      const d = find(ref);
      if (!d.running) fail('error: Requested operation is not valid: domain is not running\n');
      return d;
    };
    switch (args[0]) {
      case 'list':
        return (
          this.domains
            .filter((d) => d.running)
            .map((d) => `${d.uuid} ${d.name}\n`)
            .join('') + '\n'
        );
      case 'domstats': {
        const ref = args.find((a, i) => i > 0 && !a.startsWith('--'));
        const doms = ref !== undefined ? [running(ref)] : this.domains.filter((d) => d.running);
        return doms.map((d) => this.stats(d)).join('');
      }
      case 'setmem': {
        const d = running(args[1]);
        const m = /^(\d+)KiB$/.exec(args[2] ?? '');
        if (m === null) return fail(`error: Invalid memory size '${args[2]}'\n`);
        const kib = Number(m[1]);
        if (kib > d.maxKib)
          return fail('error: invalid argument: cannot set memory higher than max memory\n');
        if (d.driver) d.curKib = kib;
        return '';
      }
      case 'dumpxml': {
        const d = find(args[1]);
        const meta =
          d.guaranteeKib === null
            ? ''
            : `<metadata><ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0"><ovirt-vm:minGuaranteedMemoryMb type="int">${d.guaranteeKib / 1024}</ovirt-vm:minGuaranteedMemoryMb></ovirt-vm:vm></metadata>`;
        const qos = d.qos === undefined ? '' : `<metadata>${d.qos}</metadata>`;
        const disks = (d.disks ?? [])
          .map(
            (k) =>
              `<disk type='file' device='disk'><source file='${k.path}'/><target dev='${k.name}' bus='virtio'/></disk>`,
          )
          .join('');
        return `<domain type='kvm' id='1'>\n  <name>${d.name}</name>\n  <uuid>${d.uuid}</uuid>\n  ${meta}${qos}\n  <memory unit='KiB'>${d.maxKib}</memory>\n  <currentMemory unit='KiB'>${d.curKib}</currentMemory>\n  <vcpu placement='static'>${d.vcpus ?? 1}</vcpu>\n  <devices>${disks}</devices>\n</domain>\n`;
      }
      case 'schedinfo': {
        const d = running(args[1]);
        for (let i = 2; i < args.length; i++) {
          if (args[i] !== '--set') continue;
          const m = /^(vcpu_quota|vcpu_period)=(-?\d+)$/.exec(args[i + 1] ?? '');
          if (m === null) return fail(`error: invalid scheduler option: ${args[i + 1]}\n`);
          const v = Number(m[2]);
          if (m[1] === 'vcpu_period') {
            if (v < 1000 || v > 1_000_000)
              return fail(
                `error: invalid argument: value of 'vcpu_period' is out of range [1000, 1000000]\n`,
              );
            d.period = v;
          } else d.quota = v < 0 ? -1 : v;
        }
        return [
          'Scheduler      : posix',
          'cpu_shares     : 1024',
          `vcpu_period    : ${d.period ?? 100000}`,
          `vcpu_quota     : ${d.quota ?? -1}`,
          'emulator_period: 100000',
          'emulator_quota : -1',
          '',
        ].join('\n');
      }
      case 'blkdeviotune': {
        const d = running(args[1]);
        const disk = (d.disks ?? []).find((k) => k.name === args[2]);
        if (disk === undefined)
          return fail(`error: invalid argument: disk '${args[2]}' not found in domain\n`);
        const set: Partial<Record<(typeof IO_TUNE_KEYS)[number], number>> = {};
        for (const k of IO_TUNE_KEYS) {
          const i = args.indexOf(`--${k.replace(/_/g, '-')}`);
          if (i >= 0) set[k] = Number(args[i + 1]);
        }
        const next = { ...disk.limits, ...set };
        if (
          (next.total_bytes_sec > 0 && (next.read_bytes_sec > 0 || next.write_bytes_sec > 0)) ||
          (next.total_iops_sec > 0 && (next.read_iops_sec > 0 || next.write_iops_sec > 0))
        )
          return fail(
            'error: Unable to change block I/O throttle\nerror: invalid argument: total and read/write of bytes_sec cannot be set at the same time\n',
          );
        disk.limits = next;
        // Setting prints nothing; reading prints every limit.
        if (Object.keys(set).length > 0) return '';
        return IO_TUNE_KEYS.map((k) => `${k.padEnd(15)}: ${disk.limits[k]}`).join('\n') + '\n';
      }
      case 'suspend': {
        const d = running(args[1]);
        d.paused = true;
        return `Domain '${d.name}' suspended\n\n`;
      }
      case 'resume': {
        const d = running(args[1]);
        if (d.paused !== true)
          return fail(
            `error: Failed to resume domain '${args[1]}'\nerror: Requested operation is not valid: domain is already running\n`,
          );
        d.paused = false;
        return `Domain '${d.name}' resumed\n\n`;
      }
      case 'dommemstat':
        running(args[1]);
        return '';
      default:
        return fail(`error: unknown command: '${args[0]}'\n`);
    }
  };

  private stats(d: FakeDomain): string {
    // virDomainState 3 (paused), reason 2 (VIR_DOMAIN_PAUSED_USER); 1 (running), reason 1 (booted).
    const lines = [
      `Domain: '${d.name}'`,
      ...(d.paused === true
        ? ['  state.state=3', '  state.reason=2']
        : ['  state.state=1', '  state.reason=1']),
    ];
    lines.push(`  balloon.current=${d.curKib}`, `  balloon.maximum=${d.maxKib}`);
    if (d.driver) {
      lines.push(
        '  balloon.swap_in=0',
        '  balloon.swap_out=0',
        '  balloon.major_fault=12',
        '  balloon.minor_fault=3400',
        `  balloon.unused=${Math.floor(d.curKib * 0.6)}`,
        `  balloon.available=${d.curKib - 20000}`,
        `  balloon.usable=${Math.floor(d.curKib * 0.65)}`,
        `  balloon.last-update=${d.lastUpdate}`,
        '  balloon.disk_caches=2212',
      );
    }
    lines.push(`  balloon.rss=${Math.floor(d.curKib * 0.7)}`);
    return lines.join('\n') + '\n\n';
  }
}
