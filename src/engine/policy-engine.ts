// The policy engine: holds the current policy set (a new set that does not parse is rejected and
// the previous one keeps running), evaluates it against a snapshot with the SetVar store that
// persists between cycles, and returns the entities holding the controls it set.
import { buildEntities, type Entities, type Snapshot, type VariableStore } from '../entities/snapshot.js';
import {
  builtinGlobals,
  evaluatePolicySet,
  loadPolicySet,
  PolicyError,
  type DebugSink,
  type PolicySet,
  type PolicySource,
  type Value,
} from '../policy/index.js';

export type LoadOutcome = { ok: true; files: string[] } | { ok: false; errors: PolicyError[] };
export type EvaluationOutcome = { ok: true; entities: Entities } | { ok: false; error: PolicyError };

export class PolicyEngine {
  private set: PolicySet | undefined;
  private readonly hostVars = new Map<string, Value>();
  private readonly guestVars = new Map<string, Map<string, Value>>();

  /** `debugEnabled`: whether the sink shows anything now (the policy's `debug_enabled`). */
  constructor(
    private readonly debug: DebugSink,
    private readonly debugEnabled: () => boolean = () => true,
  ) {}

  get files(): readonly string[] {
    return this.set?.program.files ?? [];
  }

  /** Parses a new set; on any error the current set stays in force. */
  load(sources: readonly PolicySource[]): LoadOutcome {
    const loaded = loadPolicySet(sources);
    if (!loaded.ok) return loaded;
    this.set = loaded.set;
    return { ok: true, files: sources.map((s) => s.file) };
  }

  /** Evaluates the current set once. With no set loaded, nothing is controlled. */
  evaluate(snapshot: Snapshot): EvaluationOutcome {
    const live = new Set(snapshot.guests.map((g) => g.properties.name));
    for (const name of this.guestVars.keys()) if (!live.has(name)) this.guestVars.delete(name);
    const store: VariableStore = {
      host: this.hostVars,
      guest: (name) => {
        let vars = this.guestVars.get(name);
        if (vars === undefined) this.guestVars.set(name, (vars = new Map()));
        return vars;
      },
    };
    const entities = buildEntities(snapshot, store);
    if (this.set === undefined) return { ok: true, entities };
    const globals = builtinGlobals(this.debug, this.debugEnabled());
    globals.set('Host', entities.host);
    globals.set('Guests', entities.guests);
    // A failed evaluation applies nothing, so it must not leave half-updated SetVar values either.
    const backup = this.backupVariables();
    try {
      evaluatePolicySet(this.set, { globals });
      return { ok: true, entities };
    } catch (err) {
      this.restoreVariables(backup);
      if (err instanceof PolicyError) return { ok: false, error: err };
      throw err;
    }
  }

  private backupVariables(): { host: Map<string, Value>; guests: Map<string, Map<string, Value>> } {
    const guests = new Map<string, Map<string, Value>>();
    for (const [name, vars] of this.guestVars) if (vars.size > 0) guests.set(name, new Map(vars));
    return { host: new Map(this.hostVars), guests };
  }

  private restoreVariables(backup: {
    host: Map<string, Value>;
    guests: Map<string, Map<string, Value>>;
  }): void {
    this.hostVars.clear();
    for (const [k, v] of backup.host) this.hostVars.set(k, v);
    for (const [name, vars] of this.guestVars) {
      vars.clear();
      for (const [k, v] of backup.guests.get(name) ?? []) vars.set(k, v);
    }
  }
}
