// MOM's XML-RPC methods (those oVirt's vdsm calls), with MOM's argument and return shapes,
// served from the API's read model and command port: nothing here reaches into the engine.
// Methods that return nothing in MOM return true here (XML-RPC has no "nothing" without <nil/>).
import type { CommandPort, SetPolicyResult } from '../api/command-port.js';
import { VERBOSITIES } from '../api/command-port.js';
import type { ReadModel } from '../api/read-model.js';
import type { Verbosity } from '../config/index.js';
import { policyNameOf, policyNameProblem } from './policy-name.js';
import { FAULT, XmlRpcFault, type XmlRpcValue } from './value.js';

type XmlRpcType = 'boolean' | 'string' | 'int' | 'struct' | 'array';

export interface MethodSpec {
  /** [return type, ...argument types], as system.methodSignature lists them. */
  readonly signature: readonly XmlRpcType[];
  readonly help: string;
  readonly call: (params: readonly XmlRpcValue[]) => XmlRpcValue;
}

export interface MethodDeps {
  readonly model: ReadModel;
  readonly commands: CommandPort;
}

/** The method table, introspection included. */
export function momMethods(deps: MethodDeps): ReadonlyMap<string, MethodSpec> {
  const { model, commands } = deps;
  const methods = new Map<string, MethodSpec>();
  const add = (name: string, spec: MethodSpec): void => void methods.set(name, spec);

  add('ping', {
    signature: ['boolean'],
    help: 'ping() -> True: momd is up and answering.',
    call: () => true,
  });
  add('setPolicy', {
    signature: ['boolean', 'string'],
    help:
      'setPolicy(text) -> True: replaces the whole policy set with this one policy (kept in memory; ' +
      'named policies are dropped). A policy that does not parse or check is a Fault whose ' +
      'string holds FILE:LINE:COL messages; the running set stays in force.',
    call: (p) =>
      policyResult(commands.setPolicy([{ name: 'rpc-setPolicy.policy', text: str(p, 0, 'text') }])),
  });
  add('setNamedPolicy', {
    signature: ['boolean', 'string', 'string'],
    help:
      'setNamedPolicy(name, text) -> True: sets the policy NAME (NAME.policy of the policy ' +
      'directory, kept in memory) to text, or removes it from the set when text is empty. ' +
      "Checked like any policy: a bad one is a Fault and the running set stays. A name is letters, digits, '_', '-', '.' (no slashes, not starting with '.').",
    call: (p) => {
      const name = str(p, 0, 'name');
      const text = str(p, 1, 'text');
      const problem = policyNameProblem(name);
      if (problem !== null) throw new XmlRpcFault(FAULT.invalidParams, problem);
      return policyResult(commands.setNamedPolicy(name, text));
    },
  });
  add('getPolicy', {
    signature: ['string'],
    help: 'getPolicy() -> string: the text of the policies in force, concatenated in load order.',
    call: () => (model.policy()?.sources ?? []).map((s) => s.text).join('\n'),
  });
  add('getNamedPolicies', {
    signature: ['struct'],
    help: 'getNamedPolicies() -> struct: each policy in force by name (its file name without .policy) -> text.',
    call: () => {
      const out: Record<string, string> = {};
      for (const s of model.policy()?.sources ?? []) out[policyNameOf(s.name)] = s.text;
      return out;
    },
  });
  add('resetPolicies', {
    signature: ['boolean'],
    help: 'resetPolicies() -> True: back to the policy files on disk; set and named policies are dropped.',
    call: () => policyResult(commands.resetPolicies()),
  });
  add('setVerbosity', {
    signature: ['boolean', 'string'],
    help:
      'setVerbosity(level) -> True: the log level, one of debug, info, warn (or warning), error, ' +
      "critical, or MOM's numbers 5 (debug) .. 1 (critical).",
    call: (p) => {
      commands.setVerbosity(verbosity(p[0]));
      return true;
    },
  });
  add('getStatistics', {
    signature: ['struct'],
    help:
      'getStatistics() -> struct: {host: the latest host statistics, guests: {name: the latest ' +
      'statistics of that guest}}. Memory is in KiB; integers beyond 32 bits come as <i8>.',
    call: () => {
      const guests: Record<string, XmlRpcValue> = {};
      for (const g of model.guests()) guests[g.name] = sample(model.guest(g.name)?.latest ?? null);
      return { host: sample(model.hostView(1).latest?.sample ?? null), guests };
    },
  });
  add('getActiveGuests', {
    signature: ['array'],
    help: 'getActiveGuests() -> array: the names of the guests momd is managing.',
    call: () => model.guests().map((g) => g.name),
  });

  add('system.listMethods', {
    signature: ['array'],
    help: 'system.listMethods() -> array: the names of the methods this server serves.',
    call: () => [...methods.keys()].sort(),
  });
  add('system.methodHelp', {
    signature: ['string', 'string'],
    help: 'system.methodHelp(name) -> string: what the method does.',
    call: (p) => lookup(methods, str(p, 0, 'name')).help,
  });
  add('system.methodSignature', {
    signature: ['array', 'string'],
    help: 'system.methodSignature(name) -> array: its signatures, each [return type, argument types...].',
    call: (p) => [[...lookup(methods, str(p, 0, 'name')).signature]],
  });
  return methods;
}

/** Calls a method by name, checking the number of arguments. Throws XmlRpcFault. */
export function callMethod(
  methods: ReadonlyMap<string, MethodSpec>,
  name: string,
  params: readonly XmlRpcValue[],
): XmlRpcValue {
  const spec = lookup(methods, name);
  const wanted = spec.signature.length - 1;
  if (params.length !== wanted)
    throw new XmlRpcFault(
      FAULT.invalidParams,
      `${name} takes ${wanted} argument${wanted === 1 ? '' : 's'}, ${params.length} given`,
    );
  return spec.call(params);
}

function lookup(methods: ReadonlyMap<string, MethodSpec>, name: string): MethodSpec {
  const spec = methods.get(name);
  if (spec === undefined) throw new XmlRpcFault(FAULT.methodNotFound, `method "${name}" is not supported`);
  return spec;
}

function str(params: readonly XmlRpcValue[], i: number, what: string): string {
  const v = params[i];
  if (typeof v !== 'string')
    throw new XmlRpcFault(FAULT.invalidParams, `argument ${i + 1} (${what}) must be a string`);
  return v;
}

const NUMBERED: Readonly<Record<string, Verbosity>> = {
  '5': 'debug',
  '4': 'info',
  '3': 'warn',
  '2': 'error',
  '1': 'critical',
  warning: 'warn',
};

function verbosity(v: XmlRpcValue | undefined): Verbosity {
  const t = typeof v === 'string' || typeof v === 'number' ? String(v).trim().toLowerCase() : '';
  const level = NUMBERED[t] ?? VERBOSITIES.find((l) => l === t);
  if (level === undefined)
    throw new XmlRpcFault(
      FAULT.invalidParams,
      `unknown verbosity '${String(v)}': expected ${VERBOSITIES.join(', ')}`,
    );
  return level;
}

function policyResult(r: SetPolicyResult): true {
  if (!r.ok)
    throw new XmlRpcFault(
      FAULT.failed,
      `policy rejected, the running set stays in force:\n${r.errors.join('\n')}`,
    );
  return true;
}

/** A sample as a struct; an incomplete (null) sample is an empty struct. */
function sample(s: Readonly<Record<string, unknown>> | null): XmlRpcValue {
  const out: Record<string, XmlRpcValue> = {};
  for (const [k, v] of Object.entries(s ?? {})) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
  }
  return out;
}
