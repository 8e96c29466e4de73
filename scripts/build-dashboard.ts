// Builds the dashboard's page into dist/dashboard/ (run by `npm run build`, after tsc has checked
// src/dashboard/web/ against the browser's types): the page's script bundled with uPlot from
// node_modules into one minified file, its style with uPlot's, and the HTML. Nothing is fetched
// at run time: momd serves these three files from memory.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const web = join(root, 'src', 'dashboard', 'web');
const out = join(root, 'dist', 'dashboard');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(web, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync(join(out, 'app.css'), `${uplotCss}\n${readFileSync(join(web, 'style.css'), 'utf8')}`);
copyFileSync(join(web, 'index.html'), join(out, 'index.html'));
const size = (f: string): number => statSync(join(out, f)).size;
console.log(
  `dashboard built in dist/dashboard/: index.html ${size('index.html')} B, app.js ${size('app.js')} B, app.css ${size('app.css')} B`,
);
