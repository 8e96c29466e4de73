// Reading policy texts from disk. A directory stands for its `*.policy` files in name order, as
// MOM's `policy-dir`; files are taken in the order given.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicySource } from './index.js';

export class PolicySourceError extends Error {}

export function readPolicySources(paths: readonly string[]): PolicySource[] {
  const files = paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new PolicySourceError(
        `${p}: cannot read policy: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    if (!isDir) return [p];
    return readdirSync(p)
      .filter((name) => name.endsWith('.policy'))
      .sort()
      .map((name) => join(p, name));
  });
  return files.map((file) => {
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (err) {
      throw new PolicySourceError(
        `${file}: cannot read policy: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  });
}
