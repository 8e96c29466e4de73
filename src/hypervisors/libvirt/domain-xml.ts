// What the libvirt backend reads from a domain's XML (`virsh dumpxml`): the memory a guest is
// guaranteed, its balloon floor. MOM reads `<memtune><min_guarantee>`; libvirt's QEMU driver has
// refuses that element (libvirt 9.0: "Parameter 'min_guarantee' not supported by QEMU"), so
// on a QEMU/KVM host the guarantee lives where oVirt's vdsm writes it: the domain metadata
// `<ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0"><ovirt-vm:minGuaranteedMemoryMb>`.
// Both are read; the larger wins. https://libvirt.org/formatdomain.html#memory-tuning
import { XMLParser } from 'fast-xml-parser';

export const OVIRT_VM_NS = 'http://ovirt.org/vm/1.0';

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

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

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
