// Test support, not used by momd: a virsh that keeps a few domains in memory and answers the
// commands the libvirt backend runs (list, domstats, setmem, dumpxml, dommemstat) in virsh 9.0's
// output formats, failing as virsh does (through the same classification as the real runner). A
// domain may lack a balloon driver (targets are taken and nothing moves) and may be stopped.
import { classifyVirshFailure, type VirshRunner } from '../../src/hypervisors/libvirt/virsh.js';

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
  /** Unix seconds of the driver's last statistics; 0 when it never reported. */
  lastUpdate: number;
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
        return `<domain type='kvm' id='1'>\n  <name>${d.name}</name>\n  <uuid>${d.uuid}</uuid>\n  ${meta}\n  <memory unit='KiB'>${d.maxKib}</memory>\n  <currentMemory unit='KiB'>${d.curKib}</currentMemory>\n</domain>\n`;
      }
      case 'dommemstat':
        running(args[1]);
        return '';
      default:
        return fail(`error: unknown command: '${args[0]}'\n`);
    }
  };

  private stats(d: FakeDomain): string {
    const lines = [`Domain: '${d.name}'`, '  state.state=1', '  state.reason=1'];
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
