// What the libvirt backend reads from a domain's XML (`virsh dumpxml`): the memory a guest is
// guaranteed, its balloon floor. MOM reads `<memtune><min_guarantee>`; libvirt's QEMU driver has
// refuses that element (libvirt 9.0: "Parameter 'min_guarantee' not supported by QEMU"), so
// on a QEMU/KVM host the guarantee lives where oVirt's vdsm writes it: the domain metadata
// `<ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0"><ovirt-vm:minGuaranteedMemoryMb>`.
// Both are read; the larger wins. https://libvirt.org/formatdomain.html#memory-tuning
// For CPU and I/O tuning it reads the vCPU count, the disks, and what vdsm keeps in its tune
// metadata `<ovirt-tune:qos xmlns:ovirt-tune="http://ovirt.org/vm/tune/1.0">`: `<vcpuLimit>` (the
// administrator's CPU limit, percent of the host) and `<ioTune><device name= path=>` with
// `<guaranteed>` and `<maximum>` holding the six throttle keys (only those set).
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { IO_TUNE_KEYS, type IoTuneBounds, type IoTuneKey } from '../../fields/io-tune.js';

export const OVIRT_VM_NS = 'http://ovirt.org/vm/1.0';
export const OVIRT_TUNE_NS = 'http://ovirt.org/vm/tune/1.0';

/** libvirt's memory units (formatdomain.html "Memory Allocation") in KiB. */
const UNIT_KIB: Readonly<Record<string, number>> = {
  b: 1 / 1024,
  bytes: 1 / 1024,
  kb: 1000 / 1024,
  k: 1,
  kib: 1,
  mb: 1e6 / 1024,
  m: 1024,
  mib: 1024,
  gb: 1e9 / 1024,
  g: 1024 ** 2,
  gib: 1024 ** 2,
  tb: 1e12 / 1024,
  t: 1024 ** 3,
  tib: 1024 ** 3,
};

// Loaded on first use: a momd that never reads a domain's XML (no libvirt) does not carry the
// parser's code (about 6 MiB of resident memory).
let parserInstance: XMLParser | undefined;
const parser = {
  parse(xml: string): unknown {
    if (parserInstance === undefined) {
      const { XMLParser: Parser } = createRequire(import.meta.url)(
        'fast-xml-parser',
      ) as typeof import('fast-xml-parser');
      parserInstance = new Parser({
        ignoreAttributes: false,
        attributeNamePrefix: '@',
        parseTagValue: false,
      });
    }
    return parserInstance.parse(xml);
  },
};

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

function textOf(v: unknown): string | null {
  const n = first(v);
  if (typeof n === 'string' || typeof n === 'number') return String(n).trim();
  if (isNode(n) && (typeof n['#text'] === 'string' || typeof n['#text'] === 'number'))
    return String(n['#text']).trim();
  return null;
}

function sizeKib(node: unknown, defaultUnit: string): number | null {
  const text = textOf(node);
  if (text === null || !/^\d+$/.test(text)) return null;
  const n = first(node);
  const unit = (isNode(n) && typeof n['@unit'] === 'string' ? n['@unit'] : defaultUnit).toLowerCase();
  const per = UNIT_KIB[unit];
  return per === undefined ? null : Math.floor(Number(text) * per);
}

export interface Guarantee {
  /** The guaranteed memory (KiB); null when the domain declares none (or the XML is unreadable). */
  readonly kib: number | null;
  /** Where it came from. */
  readonly from: 'memtune' | 'ovirt-metadata' | null;
}

/** The balloon floor a domain's XML declares. Never throws: unreadable XML is "no floor". */
export function guaranteeOf(xml: string): Guarantee {
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return { kib: null, from: null };
  }
  const domain = isNode(doc) ? first(doc['domain']) : undefined;
  if (!isNode(domain)) return { kib: null, from: null };
  const memtune = first(domain['memtune']);
  const fromMemtune = isNode(memtune) ? sizeKib(memtune['min_guarantee'], 'KiB') : null;
  let fromOvirt: number | null = null;
  const metadata = first(domain['metadata']);
  if (isNode(metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      const el = first(value);
      if (!isNode(el)) continue;
      const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : null;
      const ns = prefix === null ? el['@xmlns'] : el[`@xmlns:${prefix}`];
      if (ns !== OVIRT_VM_NS) continue;
      const mb = sizeKib(
        el[prefix === null ? 'minGuaranteedMemoryMb' : `${prefix}:minGuaranteedMemoryMb`],
        'MiB',
      );
      if (mb !== null) fromOvirt = mb;
    }
  }
  if (fromMemtune === null && fromOvirt === null) return { kib: null, from: null };
  return (fromMemtune ?? -1) >= (fromOvirt ?? -1)
    ? { kib: fromMemtune, from: 'memtune' }
    : { kib: fromOvirt, from: 'ovirt-metadata' };
}

/** A disk of the domain: its target (vda) and its source on the host. */
export interface DomainDisk {
  readonly name: string;
  readonly path: string | null;
}

/** oVirt's I/O bounds for one disk, matched to the domain's disks by path or name. */
export interface IoTunePolicy {
  readonly name: string | null;
  readonly path: string | null;
  readonly guaranteed: IoTuneBounds;
  readonly maximum: IoTuneBounds;
}

export interface DomainTuning {
  /** The vCPUs the domain runs now (`<vcpu current=>`, else its count); null when unreadable. */
  readonly vcpuCount: number | null;
  /** oVirt's vcpuLimit (percent of the host); 100 when the domain has none. */
  readonly vcpuLimit: number;
  /** Its disks (device 'disk' with a target), in XML order. */
  readonly disks: readonly DomainDisk[];
  /** oVirt's ioTune devices; empty when the domain has none. */
  readonly ioPolicy: readonly IoTunePolicy[];
}

const all = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const localName = (key: string): string => key.slice(key.indexOf(':') + 1);

/** The namespace a (possibly prefixed) element name is in, from the declarations in scope. */
function namespaceOf(key: string, scopes: readonly Node[]): string | undefined {
  const i = key.indexOf(':');
  const attr = i < 0 ? '@xmlns' : `@xmlns:${key.slice(0, i)}`;
  for (const scope of scopes) {
    const ns = scope[attr];
    if (typeof ns === 'string') return ns;
  }
  return undefined;
}

/** The children of `node` whose local name is `name`, whatever their prefix. */
function childrenNamed(node: Node, name: string): unknown[] {
  return Object.entries(node)
    .filter(([k]) => !k.startsWith('@') && k !== '#text' && localName(k) === name)
    .flatMap(([, v]) => all(v));
}

function boundsOf(node: unknown): IoTuneBounds {
  const out: Partial<Record<IoTuneKey, number>> = {};
  if (!isNode(node)) return out;
  for (const k of IO_TUNE_KEYS) {
    const t = textOf(childrenNamed(node, k)[0]);
    if (t !== null && /^\d+$/.test(t) && Number.isSafeInteger(Number(t))) out[k] = Number(t);
  }
  return out;
}

const attrOf = (node: Node, name: string): string | null => {
  const v = node[`@${name}`];
  return typeof v === 'string' && v !== '' ? v : null;
};

/** What a domain's XML says of its CPU and I/O tuning. Never throws: unreadable XML reads as none. */
export function tuningOf(xml: string): DomainTuning {
  const none: DomainTuning = { vcpuCount: null, vcpuLimit: 100, disks: [], ioPolicy: [] };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return none;
  }
  const domain = isNode(doc) ? first(doc['domain']) : undefined;
  if (!isNode(domain)) return none;

  const vcpu = first(domain['vcpu']);
  const count =
    (isNode(vcpu) && typeof vcpu['@current'] === 'string' ? vcpu['@current'] : textOf(vcpu)) ?? '';
  const vcpuCount = /^\d+$/.test(count) && Number(count) > 0 ? Number(count) : null;

  const disks: DomainDisk[] = [];
  const devices = first(domain['devices']);
  for (const d of isNode(devices) ? all(devices['disk']) : []) {
    if (!isNode(d) || (attrOf(d, 'device') ?? 'disk') !== 'disk') continue;
    const target = first(d['target']);
    const name = isNode(target) ? attrOf(target, 'dev') : null;
    if (name === null) continue;
    const source = first(d['source']);
    const path = isNode(source)
      ? (attrOf(source, 'file') ??
        attrOf(source, 'dev') ??
        attrOf(source, 'name') ??
        attrOf(source, 'volume'))
      : null;
    disks.push({ name, path });
  }

  let vcpuLimit = 100;
  const ioPolicy: IoTunePolicy[] = [];
  const metadata = first(domain['metadata']);
  if (isNode(metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      if (key.startsWith('@') || localName(key) !== 'qos') continue;
      for (const qos of all(value)) {
        if (!isNode(qos) || namespaceOf(key, [qos, metadata, domain]) !== OVIRT_TUNE_NS) continue;
        const limit = textOf(childrenNamed(qos, 'vcpuLimit')[0]);
        if (limit !== null && /^\d+(\.\d+)?$/.test(limit)) vcpuLimit = Number(limit);
        for (const io of childrenNamed(qos, 'ioTune')) {
          if (!isNode(io)) continue;
          for (const dev of childrenNamed(io, 'device')) {
            if (!isNode(dev)) continue;
            ioPolicy.push({
              name: attrOf(dev, 'name'),
              path: attrOf(dev, 'path'),
              guaranteed: boundsOf(childrenNamed(dev, 'guaranteed')[0]),
              maximum: boundsOf(childrenNamed(dev, 'maximum')[0]),
            });
          }
        }
      }
    }
  }
  return { vcpuCount, vcpuLimit, disks, ioPolicy };
}
