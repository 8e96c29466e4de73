// Files shipped with the package, found relative to this module (src/cli → dist/src/cli).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHIPPED_POLICIES = {
  default: join(PACKAGE_ROOT, 'policies/default'),
  classic: join(PACKAGE_ROOT, 'policies/classic'),
  ksmOnly: join(PACKAGE_ROOT, 'policies/classic/20-ksm.policy'),
} as const;

/** The version in the package's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
