// Where the daemon's policy set comes from: a policy file and/or a policy directory (its
// *.policy files by name), re-read when any of them changes on disk.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicySource } from '../policy/index.js';
import { readPolicySources } from '../policy/sources.js';

export class PolicyFiles {
  private signature = '';
  constructor(
    readonly file: string | undefined,
    readonly dir: string | undefined,
  ) {}

  /** The paths in load order: the file first, then the directory's files by name. */
  paths(): string[] {
    const out: string[] = [];
    if (this.file) out.push(this.file);
    if (this.dir) {
      out.push(
        ...readdirSync(this.dir)
          .filter((n) => n.endsWith('.policy'))
          .sort()
          .map((n) => join(this.dir as string, n)),
      );
    }
    return out;
  }

  /** The sources when the set changed on disk since the last call (always on the first), else undefined. */
  readIfChanged(): PolicySource[] | undefined {
    const paths = this.paths();
    const signature = paths
      .map((p) => {
        const s = statSync(p);
        return `${p}:${s.mtimeMs}:${s.size}`;
      })
      .join('|');
    if (signature === this.signature) return undefined;
    this.signature = signature;
    return readPolicySources(paths);
  }
}

/** The sha256 (hex) of a policy set: each file's name and text, in load order. */
export function policyHash(sources: readonly PolicySource[]): string {
  const h = createHash('sha256');
  for (const s of sources) h.update(`${s.file}\0${s.text.length}\0${s.text}\0`);
  return h.digest('hex');
}
