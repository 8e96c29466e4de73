// momd entry point: runs the daemon until SIGINT or SIGTERM, then exits cleanly.
import { runMomd } from './momd-main.js';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
process.exitCode = await runMomd(process.argv.slice(2), controller.signal, (s) => process.stderr.write(s));
