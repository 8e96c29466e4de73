// Files shipped with the package, found relative to this module (src/cli → dist/src/cli).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHIPPED_POLICIES = {
  default: join(PACKAGE_ROOT, 'policies/default'),
  classic: join(PACKAGE_ROOT, 'policies/classic'),
  ksmOnly: join(PACKAGE_ROOT, 'policies/classic/20-ksm.policy'),
} as const;
