// Reads the text of `virsh domstats` (one `Domain: 'name'` block of `key=value` lines per domain)
// and converts a domain's balloon.* fields to a GuestReading. This is the libvirt backend's unit
// edge: libvirt reports memory in KiB (kept), and swap traffic in KiB (turned into pages).
import type { GuestReading } from '../../fields/catalogue.js';

/** One domain's block of `virsh domstats` output, its values as virsh printed them. */
export interface DomainStats {
  readonly name: string;
  readonly fields: ReadonlyMap<string, string>;
}

/** virDomainState values (libvirt-domain.h) that `state.state` may hold. */
export const DomainState = {
  running: 1,
  blocked: 2,
  paused: 3,
  shutdown: 4,
  shutoff: 5,
  crashed: 6,
  pmsuspended: 7,
} as const;

/** Guest pages are 4 KiB, the unit in which readings count swap traffic (as /proc/vmstat does). */
export const PAGE_KIB = 4;

const DOMAIN_HEADER = /^Domain: '(.*)'\s*$/;
const FIELD = /^\s+([^=\s]+)=(.*)$/;

/**
 * The domains in `virsh domstats` output, in output order. Lines outside a `Domain:` block and
 * lines that are not `key=value` are ignored, so an empty output (no domains) gives [].
 */
export function parseDomstats(text: string): DomainStats[] {
  const domains: Array<{ name: string; fields: Map<string, string> }> = [];
  let current: { name: string; fields: Map<string, string> } | null = null;
  for (const line of text.split('\n')) {
    const header = DOMAIN_HEADER.exec(line);
    if (header !== null) {
      current = { name: header[1] ?? '', fields: new Map() };
      domains.push(current);
      continue;
    }
    const field = FIELD.exec(line);
    if (field !== null && current !== null) current.fields.set(field[1] ?? '', (field[2] ?? '').trimEnd());
  }
  return domains;
}

/**
 * The field as a non-negative whole number; null when absent, not a number, or beyond 2^53 (a
 * "not reported" marker such as 2^64-1 must never reach a policy as a huge number).
 */
export function numberField(d: DomainStats, key: string): number | null {
  const text = d.fields.get(key);
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The domain's virDomainState (see DomainState), or null without `--state`. */
export function domainState(d: DomainStats): number | null {
  return numberField(d, 'state.state');
}

/** When the guest last sent balloon statistics (Unix seconds); null when it never has. */
export function lastUpdate(d: DomainStats): number | null {
  const t = numberField(d, 'balloon.last-update');
  return t === null || t === 0 ? null : t;
}

/**
 * The domain's reading. Memory fields are KiB as libvirt gives them; balloon.swap_in and
 * balloon.swap_out are KiB in libvirt (virsh's dommemstat documentation: "amount of data read
 * from swap space (in kB)") and become 4 KiB pages here. A key libvirt left out is left out:
 * without a balloon driver in the guest only balloon.current, .maximum and .rss are present.
 * `floorKib` is the guest's guaranteed memory from its XML, when it has one.
 */
export function toGuestReading(d: DomainStats, nowS: number, floorKib: number | null = null): GuestReading {
  const num = (key: string): number | null => numberField(d, `balloon.${key}`);
  const pages = (key: string): number | null => {
    const v = num(key);
    return v === null ? null : Math.round(v / PAGE_KIB);
  };
  const last = lastUpdate(d);
  return {
    balloon_cur: num('current'),
    balloon_max: num('maximum'),
    balloon_min: floorKib,
    mem_available: num('available'),
    mem_unused: num('unused'),
    mem_cache: num('disk_caches'),
    mem_usable: num('usable'),
    stats_age_s: last === null ? null : Math.max(0, nowS - last),
    swap_in: pages('swap_in'),
    swap_out: pages('swap_out'),
    major_fault: num('major_fault'),
    minor_fault: num('minor_fault'),
    rss: num('rss'),
  };
}
