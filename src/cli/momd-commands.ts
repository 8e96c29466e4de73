// The daemon's side of the command port (src/api/command-port.ts): what a client may ask of a
// running momd. A new policy is checked as `momctl policy check` checks it before the engine gets
// it; a reload is SIGHUP's; dry run and verbosity are run-time settings of the daemon. Named
// policies (MOM's setNamedPolicy) are overrides of the base set, kept here in memory.
import { join } from 'node:path';
import type { CommandPort, PolicyUpload, ReloadResult, SetPolicyResult } from '../api/command-port.js';
import type { Verbosity } from '../config/index.js';
import type { Engine } from '../engine/engine.js';
import { policyHash, type PolicyFiles } from '../engine/policy-files.js';
import { checkPolicySet, formatDiagnostic, loadPolicySet, type PolicySource } from '../policy/index.js';
import { readPolicySources } from '../policy/sources.js';
import { policyNameOf, policyNameProblem } from '../rpc/policy-name.js';

export interface DaemonControls {
  /** The running engine (a reload replaces it); undefined between engines. */
  engine(): Engine | undefined;
  /** Where the running configuration's policy files are. */
  policyFiles(): PolicyFiles;
  reload(): ReloadResult;
  setDryRun(on: boolean): void;
  dryRun(): boolean;
  setVerbosity(level: Verbosity): void;
}

export interface DaemonCommands extends CommandPort {
  /** The engine read the policy files (a new engine, a change on disk): uploads and named policies are gone. */
  policyReloaded(): void;
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

export function createDaemonCommands(d: DaemonControls): DaemonCommands {
  /** What setPolicy uploaded; null: the files on disk. */
  let uploaded: PolicySource[] | null = null;
  /** Named policies: a text, or null for a name removed from the set. */
  let named = new Map<string, string | null>();

  /** Checks the set and hands it to the engine. */
  const apply = (sources: PolicySource[], origin: 'files' | 'api'): SetPolicyResult => {
    const checked = checkPolicyUpload(sources);
    if (checked.errors.length > 0) return { ok: false, errors: checked.errors };
    const engine = d.engine();
    if (engine === undefined) return { ok: false, errors: ['momd is restarting its engine; try again'] };
    const loaded = engine.setPolicy(sources, origin);
    if (!loaded.ok) return { ok: false, errors: loaded.errors.map(formatDiagnostic) };
    return { ok: true, files: loaded.files, hash: policyHash(sources), warnings: checked.warnings };
  };

  /** The base set (files or upload) with the named policies applied, or the error reading the files. */
  const compose = (overrides: ReadonlyMap<string, string | null>): PolicySource[] | string => {
    const files = d.policyFiles();
    let base: PolicySource[];
    try {
      base = uploaded ?? readPolicySources(files.paths());
    } catch (err) {
      return (err as Error).message;
    }
    // In the files' set, the `policy` file comes first and the rest go by name, as MOM orders
    // its named policies; an uploaded set keeps its order and new names follow by name.
    const fixed = uploaded === null && files.file !== undefined ? base.slice(0, 1) : [];
    const rest = base.slice(fixed.length);
    const out = rest
      .map((s) => ({ key: policyNameOf(s.file), source: s }))
      .filter(({ key }) => overrides.get(key) !== null)
      .map(({ key, source }) => ({
        key,
        source: { file: source.file, text: overrides.get(key) ?? source.text },
      }));
    const known = new Set(out.map((o) => o.key));
    for (const [key, text] of overrides) {
      if (text === null || known.has(key)) continue;
      const file = files.dir !== undefined ? join(files.dir, `${key}.policy`) : `${key}.policy`;
      out.push({ key, source: { file, text } });
    }
    if (uploaded === null) out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return [...fixed, ...out.map((o) => o.source)];
  };

  return {
    setPolicy(files: readonly PolicyUpload[]): SetPolicyResult {
      const sources = files.map((f) => ({ file: f.name, text: f.text }));
      const r = apply(sources, 'api');
      if (r.ok) {
        uploaded = sources;
        named = new Map();
      }
      return r;
    },
    setNamedPolicy(name: string, text: string): SetPolicyResult {
      const problem = policyNameProblem(name);
      if (problem !== null) return { ok: false, errors: [problem] };
      const next = new Map(named).set(name, text === '' ? null : text);
      const sources = compose(next);
      if (typeof sources === 'string') return { ok: false, errors: [sources] };
      const r = apply(sources, 'api');
      if (r.ok) named = next;
      return r;
    },
    resetPolicies(): SetPolicyResult {
      const saved = { uploaded, named };
      uploaded = null;
      named = new Map();
      const sources = compose(named);
      const r =
        typeof sources === 'string' ? { ok: false as const, errors: [sources] } : apply(sources, 'files');
      if (!r.ok) ({ uploaded, named } = saved);
      return r;
    },
    policyReloaded() {
      uploaded = null;
      named = new Map();
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
