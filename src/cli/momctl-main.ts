// momctl's command tree, as a function of argv and output streams so tests can run it in-process.
import { Command, CommanderError } from 'commander';
import { addTargetOptions, registerApiCommands } from './api-commands.js';
import { registerPolicyCommands, type Io } from './policy-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerSimulateCommand } from './simulate-command.js';
import { VERSION } from './version.js';

/** Runs momctl with argv (without the node and script names); resolves to the exit code. */
export async function runMomctl(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let exitCode = 0;
  const program = new Command('momctl')
    .description('Memory Overcommitment Manager client')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    });
  addTargetOptions(program);
  const policy = registerPolicyCommands(program, io, (code) => (exitCode = code));
  registerApiCommands(program, policy, io, (code) => (exitCode = code), env);
  registerSimulateCommand(program, io, (code) => (exitCode = code));
  registerReplayCommand(program, io, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // Help and version are not errors; anything else commander rejects is a usage error.
    return err.exitCode === 0 ? 0 : 2;
  }
  return exitCode;
}
