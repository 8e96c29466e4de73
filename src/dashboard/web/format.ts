// Numbers as an administrator reads them: memory from KiB in MiB or GiB, rates per second.

export function memory(kib: number | null | undefined): string {
  if (kib === null || kib === undefined) return '–';
  const mib = kib / 1024;
  if (Math.abs(mib) >= 10240) return `${(mib / 1024).toFixed(1)} GiB`;
  if (Math.abs(mib) >= 100) return `${mib.toFixed(0)} MiB`;
  return `${mib.toFixed(1)} MiB`;
}

export function rate(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0';
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2);
}

export function clock(iso: string | number): string {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour12: false });
}

export function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return String(v);
}
