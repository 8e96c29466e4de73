// The command port: the few things a client may ask the daemon to do. The daemon implements it
// (src/cli/momd-commands.ts); the HTTP API and MOM's XML-RPC server (src/rpc/) call it. A command
// never reaches into the engine from here: it is the daemon's to carry out.
import type { Verbosity } from '../config/index.js';

/** One policy file sent by a client: its name (used in FILE:LINE:COL messages) and its text. */
export interface PolicyUpload {
  readonly name: string;
  readonly text: string;
}

export type SetPolicyResult =
  | {
      readonly ok: true;
      readonly files: readonly string[];
      readonly hash: string;
      readonly warnings: readonly string[];
    }
  /** Rejected: one FILE:LINE:COL: error: MESSAGE line each; the running set stays in force. */
  | { readonly ok: false; readonly errors: readonly string[] };

export type ReloadResult =
  | { readonly ok: true }
  /** Rejected: the problems, one per line; the running configuration stays in force. */
  | { readonly ok: false; readonly problems: readonly string[] };

export interface CommandPort {
  /**
   * Replaces the policy set with these files, in this order, after checking them as
   * `momctl policy check` does. Kept in memory: the files on disk are not written.
   */
  setPolicy(files: readonly PolicyUpload[]): SetPolicyResult;
  /**
   * MOM's named policies (XML-RPC setNamedPolicy): NAME stands for NAME.policy of the policy
   * directory. The set in force becomes the running base set (the files, or what setPolicy
   * uploaded) with this name's text replaced or added, or removed when `text` is empty; checked
   * as setPolicy checks, and kept in memory only. The caller validates the name
   * (src/rpc/policy-name.ts); an unsafe name is rejected here as well.
   */
  setNamedPolicy(name: string, text: string): SetPolicyResult;
  /** Back to the policy files as they are on disk: uploaded sets and named policies are dropped. */
  resetPolicies(): SetPolicyResult;
  /** Reads the configuration and the policy files again, as SIGHUP does. */
  reload(): ReloadResult;
  /** Dry run on: evaluate and log, apply nothing. Returns the setting now in force. */
  setDryRun(on: boolean): { readonly dryRun: boolean };
  setVerbosity(level: Verbosity): { readonly verbosity: Verbosity };
}

export const VERBOSITIES: readonly Verbosity[] = ['debug', 'info', 'warn', 'error', 'critical'];

/** A port that takes no command: each throws `message` (a server that refuses writes first never calls it). */
export function refusingCommands(message: string): CommandPort {
  const refuse = (): never => {
    throw new Error(message);
  };
  return {
    setPolicy: refuse,
    setNamedPolicy: refuse,
    resetPolicies: refuse,
    reload: refuse,
    setDryRun: refuse,
    setVerbosity: refuse,
  };
}
