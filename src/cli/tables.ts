// How momctl shows what the API returns: plain text tables, memory in MiB, percentages of the
// guest's size. Pure functions of the API's views, so they are tested without a daemon.
import type { DecisionView, GuestRowView, StatusView } from '../api/views.js';

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

export const mib = (kib: number | null): string => (kib === null ? '-' : String(Math.round(kib / 1024)));
export const pct = (part: number | null, whole: number | null): string =>
  part === null || whole === null || whole <= 0 ? '-' : `${Math.round((100 * part) / whole)}%`;
const rate = (r: number | null): string => (r === null ? '-' : String(Math.round(r * 10) / 10));

/** "balloon_target 2048→1800 MiB applied", "… skipped" for a decision. */
export function action(d: DecisionView | null): string {
  if (d === null) return '-';
  const value = (v: number | null): string =>
    v === null ? '?' : d.control === 'balloon_target' || d.control === 'mem_limit' ? mib(v) : String(v);
  const unit = d.control === 'balloon_target' || d.control === 'mem_limit' ? ' MiB' : '';
  return `${d.control} ${value(d.old)}→${value(d.new)}${unit} ${d.outcome}`;
}

export function guestTable(rows: readonly GuestRowView[]): string {
  const head = [
    'NAME',
    'SIZE MiB',
    'FLOOR MiB',
    'AVAIL MiB',
    'AVAIL%',
    'CACHE MiB',
    'CACHE%',
    'SWAP IN/s',
    'SWAP OUT/s',
    'LAST ACTION',
    'WHY',
  ];
  const body = rows.map((g) => [
    g.name + (g.stuck ? ' (stuck)' : '') + (g.optOut ? ' (opted out)' : ''),
    mib(g.sizeKib),
    mib(g.floorKib),
    mib(g.availableKib),
    pct(g.availableKib, g.sizeKib),
    mib(g.cacheKib),
    pct(g.cacheKib, g.sizeKib),
    rate(g.swapInRate),
    rate(g.swapOutRate),
    action(g.lastAction),
    g.lastAction?.reason ?? '-',
  ]);
  return table([head, ...body]);
}

export function decisionTable(decisions: readonly DecisionView[]): string {
  return table([
    ['TIME', 'ENTITY', 'ACTION', 'WHY'],
    ...decisions.map((d) => [d.time.slice(11, 19), d.entity, action(d), d.reason ?? '-']),
  ]);
}

export function statusText(s: StatusView): string {
  const backend = Object.entries(s.backend)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  const c = s.lastCycle;
  const lines = [
    `momd ${s.version}, pid ${s.pid}, up ${duration(s.uptimeS)}`,
    `backend:     ${backend}`,
    `policy:      ${s.policy ? `${s.policy.files.join(', ')} (${s.policy.origin === 'api' ? 'set through the API' : 'from files'}, sha256 ${s.policy.hash.slice(0, 12)})` : 'none: monitoring only'}`,
    `last cycle:  ${c ? `${c.time} (at ${c.at} s), ${c.durationMs} ms, ${c.status}${c.detail ? ` (${c.detail})` : ''}, ${c.guests} guests, ${c.applied} applied, ${c.failed} failed` : 'none yet'}`,
    `cycles:      ${s.cycles}`,
    `fallback:    ${s.policyFallback ? `ON since ${s.policyFallback.since}: the policy failed ${s.policyFallback.failures} cycles in a row; guests get memory back slowly, nothing shrinks` : 'off'}`,
    `contention:  ${s.contention ? `ON since ${s.contention.since}: host memory PSI full ${s.contention.psiFull}%, every guest at its floor or short of memory (${s.contention.guests.join(', ')})` : 'none'}`,
    ...(s.paused
      ? [`paused:      ${s.paused.guest} since ${s.paused.since}, by momd for contention: ${s.paused.reason}`]
      : []),
    `dry run:     ${s.dryRun ? 'ON: nothing is applied' : 'off'}`,
    `verbosity:   ${s.verbosity}`,
    `guests:      ${s.guests}`,
  ];
  if (s.lastPolicyRejection)
    lines.push(`last policy rejected at ${s.lastPolicyRejection.time}:`, s.lastPolicyRejection.errors);
  lines.push(`recent errors: ${s.recentErrors.length === 0 ? 'none' : ''}`);
  for (const e of s.recentErrors)
    lines.push(`  ${e.time} ${e.kind}${e.code ? ` ${e.code}` : ''}: ${e.message}`);
  return lines.join('\n');
}

function duration(s: number): string {
  const t = Math.floor(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${t % 60}s` : `${t}s`;
}
