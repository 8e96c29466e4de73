// momctl entry point: wires runMomctl to the process.
import { runMomctl } from './momctl-main.js';

process.exitCode = await runMomctl(process.argv.slice(2), {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
});
