// Memory pressure stall information from <procRoot>/pressure/memory: the share of recent wall time
// in which some (or all non-idle) tasks waited for memory. https://docs.kernel.org/accounting/psi.html
import { join } from 'node:path';
import { CollectionError, readKeyValueFile, type KeyValues, type ReadOptions } from './read.js';

export const PSI_HINT = 'PSI off: boot with psi=1 (kernel needs CONFIG_PSI)';

/** One line of a PSI file: percentages over 10 s, 60 s and 300 s, and the total stall in µs. */
export interface PsiLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly totalUs: number;
}

export interface MemoryPsi {
  readonly some: PsiLine;
  readonly full: PsiLine;
  /** MemoryPressure's names, so a MemoryPsi is a MemoryPressure. */
  readonly some10: number;
  readonly full10: number;
}

/** No file (kernel without PSI, or booted psi=0) → NotAvailable(PSI_HINT); bad text → CollectionError. */
export async function readMemoryPressure(procRoot: string, opts: ReadOptions = {}): Promise<MemoryPsi> {
  return readPressureFile(join(procRoot, 'pressure', 'memory'), opts);
}

/** A PSI file by its path: /proc/pressure/memory, or a v2 cgroup's memory.pressure. */
export async function readPressureFile(path: string, opts: ReadOptions = {}): Promise<MemoryPsi> {
  const kv = await readKeyValueFile(path, { hint: PSI_HINT, ...opts });
  const some = psiLine(kv, 'some');
  const full = psiLine(kv, 'full');
  return { some, full, some10: some.avg10, full10: full.avg10 };
}

function psiLine(kv: KeyValues, key: 'some' | 'full'): PsiLine {
  const text = kv.text(key);
  const fields = new Map<string, string>();
  for (const part of text.split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const num = (name: string, pattern: RegExp): number => {
    const v = fields.get(name);
    if (v === undefined || !pattern.test(v)) {
      throw new CollectionError(kv.path, `${key} ${text}`, `expected ${name}=<number> on the '${key}' line`);
    }
    return Number(v);
  };
  const pct = /^\d+(\.\d+)?$/;
  return {
    avg10: num('avg10', pct),
    avg60: num('avg60', pct),
    avg300: num('avg300', pct),
    totalUs: num('total', /^\d+$/),
  };
}
