// momd entry point: runs the daemon until SIGINT or SIGTERM, then exits cleanly; SIGHUP reloads
// the configuration. An unexpected error ends the run the same way (KSM, and zswap when momd changed
// it, restored) with exit code 1.
// The signal handlers come first: the daemon's modules (fastify, pino, the engine) take a while to
// load on a busy host, and a SIGTERM meanwhile must still end momd cleanly (exit 0).
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
let fatal = false;
const onFatal = (err: unknown): void => {
  process.stderr.write(`momd: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  fatal = true;
  controller.abort();
};
process.on('uncaughtException', onFatal);
process.on('unhandledRejection', onFatal);
const reloads = {
  subscribe(handler: () => void): () => void {
    process.on('SIGHUP', handler);
    return () => process.off('SIGHUP', handler);
  },
};
const { runMomd } = await import('./momd-main.js');
const code = await runMomd(process.argv.slice(2), controller.signal, (s) => process.stderr.write(s), reloads);
process.exitCode = fatal ? 1 : code;
