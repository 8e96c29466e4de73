// The dashboard's page: three files built by `npm run build` (scripts/build-dashboard.ts bundles
// src/dashboard/web/ with uPlot into dist/dashboard/), read once when momd starts and served from
// memory. They hold no data (every number the page shows comes from the API, with the token), so
// they are served without a token: a browser cannot put a header on the request that opens a
// page.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** URL path → the built file and its content type. */
const FILES: Readonly<Record<string, readonly [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dashboard/app.css': ['app.css', 'text/css; charset=utf-8'],
};

/** The paths served without a token. */
export const ASSET_PATHS: readonly string[] = Object.keys(FILES);

/** Where `npm run build` puts the page: dist/dashboard/, beside dist/src/. */
export const BUILT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard');

export type Assets =
  | { readonly ok: true; readonly files: ReadonlyMap<string, Asset> }
  | { readonly ok: false; readonly why: string };

/** Reads the built page; when it was not built, says why (momd serves the API without it). */
export function loadAssets(dir: string = BUILT_DIR): Assets {
  const files = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    try {
      files.set(path, { type, body: readFileSync(join(dir, file)) });
    } catch (err) {
      return {
        ok: false,
        why: `${join(dir, file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (run \`npm run build\`)`,
      };
    }
  }
  return { ok: true, files };
}
