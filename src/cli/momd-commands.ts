// The daemon's side of the command port (src/api/command-port.ts): what a client may ask of a
// running momd. A new policy is checked as `momctl policy check` checks it before the engine gets
// it; a reload is SIGHUP's; dry run and verbosity are run-time settings of the daemon.
import type { CommandPort, PolicyUpload, ReloadResult, SetPolicyResult } from '../api/command-port.js';
import type { Verbosity } from '../config/index.js';
import type { Engine } from '../engine/engine.js';
import { policyHash } from '../engine/policy-files.js';
import { checkPolicySet, formatDiagnostic, loadPolicySet, type PolicySource } from '../policy/index.js';

export interface DaemonControls {
  /** The running engine (a reload replaces it); undefined between engines. */
  engine(): Engine | undefined;
  reload(): ReloadResult;
  setDryRun(on: boolean): void;
  dryRun(): boolean;
  setVerbosity(level: Verbosity): void;
}

/** Parses and statically checks a policy set: the FILE:LINE:COL lines of its errors, and warnings. */
export function checkPolicyUpload(sources: readonly PolicySource[]): {
  errors: string[];
  warnings: string[];
} {
  const loaded = loadPolicySet(sources);
  if (!loaded.ok) return { errors: loaded.errors.map(formatDiagnostic), warnings: [] };
  const problems = checkPolicySet(loaded.set);
  return {
    errors: problems.filter((p) => p.severity === 'error').map(formatDiagnostic),
    warnings: problems.filter((p) => p.severity !== 'error').map(formatDiagnostic),
  };
}

export function createDaemonCommands(d: DaemonControls): CommandPort {
  return {
    setPolicy(files: readonly PolicyUpload[]): SetPolicyResult {
      const sources = files.map((f) => ({ file: f.name, text: f.text }));
      const checked = checkPolicyUpload(sources);
      if (checked.errors.length > 0) return { ok: false, errors: checked.errors };
      const engine = d.engine();
      if (engine === undefined) return { ok: false, errors: ['momd is restarting its engine; try again'] };
      const loaded = engine.setPolicy(sources, 'api');
      if (!loaded.ok) return { ok: false, errors: loaded.errors.map(formatDiagnostic) };
      return { ok: true, files: loaded.files, hash: policyHash(sources), warnings: checked.warnings };
    },
    reload: () => d.reload(),
    setDryRun(on) {
      d.setDryRun(on);
      return { dryRun: d.dryRun() };
    },
    setVerbosity(level) {
      d.setVerbosity(level);
      return { verbosity: level };
    },
  };
}
