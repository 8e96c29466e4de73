// momd: the daemon. The collect → evaluate → apply loop arrives with the engine (see README).
process.stderr.write('momd: the daemon is not built yet; use `momctl policy` (see README.md)\n');
process.exitCode = 1;
