// `momctl policy check|eval|run|bench`: the policy language from the command line.
// Contract: results on stdout as JSON (check: the line `ok` when it finds nothing), diagnostics
// on stderr as FILE:LINE:COL: error: MESSAGE, exit 0 on success and 1 on any policy, snapshot or
// input error (2 is left for usage errors).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type MomConfig } from '../config/index.js';
import { CONTROLLERS } from '../controllers/index.js';
import {
  buildEntities,
  controlsOf,
  parseSnapshot,
  type Entities,
  type Snapshot,
} from '../entities/snapshot.js';
import { catalogue, groupsOfCollectors, type Scope } from '../fields/catalogue.js';
import {
  builtinGlobals,
  evaluatePolicySet,
  formatErrors,
  loadPolicySet,
  PolicyError,
  strictCheckPolicySet,
  type PolicySet,
  type ScopeFields,
  type Value,
  type Vocabulary,
} from '../policy/index.js';
import { readPolicySources } from '../policy/sources.js';
import { fromJson, toJson } from '../policy/values.js';
import { MomError } from '../errors.js';

/** An error already worded for the user; the command prints it and exits 1. */
export class UserError extends MomError {
  constructor(message: string) {
    super('MOM_E_INPUT', message);
    this.name = 'UserError';
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Adds `policy check|eval|run|bench`; returns the `policy` command (the API's get|set|reload join it). */
export function registerPolicyCommands(program: Command, io: Io, setExit: (code: number) => void): Command {
  const policy = program.command('policy').description('check, evaluate, run and benchmark policy files');

  const guarded =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        if (err instanceof PolicyError) io.err(formatErrors([err]));
        else if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError))
          io.err(err.message);
        else throw err;
        setExit(1);
      }
    };

  policy
    .command('check')
    .description(
      'report syntax errors and static problems, one per line; print ok when there is none; exit 1 if any error',
    )
    .option('--config <file>', "judge statistics and controls by this mom.conf's collectors and controllers")
    .option('--env <file>', 'JSON object of global variables (as for eval): its names count as defined')
    .argument('<files...>', 'policy files or directories (a directory loads its *.policy files by name)')
    .action(
      guarded((files: string[], opts: { config?: string; env?: string }) => {
        // A configuration that does not load is its usual FILE:LINE errors (ConfigError), exit 1.
        const loaded = opts.config === undefined ? undefined : loadConfig({ file: opts.config });
        if (loaded !== undefined && loaded.warnings.length > 0) io.err(loaded.warnings.join('\n'));
        const globals = opts.env === undefined ? [] : [...readEnv(opts.env).keys()];
        const set = load(files);
        const problems = strictCheckPolicySet(set, policyVocabulary(loaded?.config), globals);
        if (problems.length > 0) io.err(formatErrors(problems));
        // `ok` only when there is nothing at all to say, the configuration's warnings included.
        else if ((loaded?.warnings.length ?? 0) === 0) io.out('ok');
        if (problems.some((p) => p.severity === 'error')) setExit(1);
      }),
    );

  policy
    .command('eval')
    .description('evaluate top-level expressions with no Host/Guests; print one JSON array')
    .option('--env <file>', 'JSON object of global variables')
    .argument('<files...>', 'policy files or directories')
    .action(
      guarded((files: string[], opts: { env?: string }) => {
        const set = load(files);
        const globals = builtinGlobals((m) => io.err(`debug: ${m}`));
        if (opts.env !== undefined) for (const [k, v] of readEnv(opts.env)) globals.set(k, v);
        const results = evaluatePolicySet(set, { globals });
        io.out(JSON.stringify(results.map(toJson)));
      }),
    );

  policy
    .command('run')
    .description('evaluate the set once against a snapshot; print the controls as JSON')
    .requiredOption('--snapshot <file>', 'snapshot JSON (see docs/policy-language.md)')
    .argument('<files...>', 'policy files or directories')
    .action(
      guarded((files: string[], opts: { snapshot: string }) => {
        const set = load(files);
        const snapshot = readSnapshot(opts.snapshot);
        const entities = runOnce(set, snapshot, (m) => io.err(`debug: ${m}`));
        io.out(JSON.stringify(controlsOf(entities)));
      }),
    );

  policy
    .command('bench')
    .description('evaluate the set N times against a snapshot (parsing excluded); print timings')
    .requiredOption('--snapshot <file>', 'snapshot JSON')
    .requiredOption('--iterations <n>', 'number of evaluations', parsePositiveInt)
    .option('--warmup <n>', 'untimed evaluations first', parsePositiveInt, 20)
    .argument('<files...>', 'policy files or directories')
    .action(
      guarded((files: string[], opts: { snapshot: string; iterations: number; warmup: number }) => {
        const set = load(files);
        const snapshot = readSnapshot(opts.snapshot);
        io.out(JSON.stringify(benchmark(set, snapshot, opts.iterations, opts.warmup)));
      }),
    );
  return policy;
}

/**
 * What `policy check` judges names by. Without a configuration: momd's default one, taken
 * broadly: every statistic of the catalogue, and the control of every controller (only the
 * configuration says which controllers run, so none is warned about as not configured). With
 * one: the statistics of its collectors and the controls of its controllers.
 */
export function policyVocabulary(config?: MomConfig): Vocabulary {
  const controlOwners = new Map<string, string>();
  const byController = new Map<string, readonly string[]>();
  for (const c of CONTROLLERS) {
    const controls = c.create().controls ?? [];
    byController.set(c.name.toLowerCase(), controls);
    for (const control of controls) if (!controlOwners.has(control)) controlOwners.set(control, c.name);
  }
  const enabled = config?.main.controllers ?? CONTROLLERS.map((c) => c.name);
  return {
    host: scopeFields('host', config?.host.collectors),
    guest: scopeFields(
      'guest',
      config === undefined ? undefined : groupsOfCollectors(config.guest.collectors),
    ),
    controlOwners,
    configuredControls: new Set(enabled.flatMap((name) => byController.get(name.toLowerCase()) ?? [])),
    fromConfiguration: config !== undefined,
  };
}

/** A scope's statistics; those of the given collectors as configured (all of them when none given). */
function scopeFields(scope: Scope, collectors: readonly string[] | undefined): ScopeFields {
  const fields = catalogue(scope);
  const wanted = collectors === undefined ? undefined : new Set(collectors.map((c) => c.toLowerCase()));
  return {
    known: new Set(fields.map(([name]) => name)),
    configured: new Set(
      fields
        .filter(([, spec]) => wanted === undefined || wanted.has(spec.group.toLowerCase()))
        .map(([n]) => n),
    ),
    collectorOf: new Map(fields.map(([name, spec]) => [name, spec.group])),
  };
}

function load(files: readonly string[]): PolicySet {
  const loaded = loadPolicySet(readPolicySources(files));
  if (!loaded.ok) throw new UserError(formatErrors(loaded.errors));
  return loaded.set;
}

/**
 * Builds fresh entities, evaluates once, and returns the entities holding the controls set;
 * `debug` receives the policy's debug output, or null to discard it (debug_enabled false).
 */
export function runOnce(set: PolicySet, snapshot: Snapshot, debug: ((m: string) => void) | null): Entities {
  const entities = buildEntities(snapshot);
  const globals = builtinGlobals(debug ?? (() => {}), debug !== null);
  globals.set('Host', entities.host);
  globals.set('Guests', entities.guests);
  evaluatePolicySet(set, { globals });
  return entities;
}

export interface BenchResult {
  evaluations: number;
  median_ms: number;
  p99_ms: number;
  guests: number;
  measured: string;
}

/** Times entity construction + evaluation per iteration (what one daemon cycle pays), not parsing. */
export function benchmark(
  set: PolicySet,
  snapshot: Snapshot,
  iterations: number,
  warmup: number,
): BenchResult {
  // As momd at its default verbosity (info): the policy's debug output goes nowhere.
  for (let i = 0; i < warmup; i++) runOnce(set, snapshot, null);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    runOnce(set, snapshot, null);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? NaN;
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    evaluations: iterations,
    median_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    guests: snapshot.guests.length,
    measured:
      'entity construction from the parsed snapshot + one evaluation of the whole set (debug output off, as at verbosity info), per iteration',
  };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
}

function readSnapshot(file: string): Snapshot {
  return parseSnapshot(readJson(file), file);
}

function readEnv(file: string): Map<string, Value> {
  const json = readJson(file);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UserError(`${file}: expected a JSON object mapping variable names to values`);
  }
  return new Map(Object.entries(json).map(([k, v]) => [k, fromJson(v, k)]));
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got '${text}'`);
  return n;
}
