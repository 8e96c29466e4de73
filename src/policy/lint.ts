// The strict half of `momctl policy check`: names that would fail, or do nothing, when the code
// runs. Judged against a Vocabulary (the statistics and controls of a configuration) and the
// entity references of entity-refs.ts, so only names whose meaning is certain are judged:
//   - a variable no form binds anywhere in the set (warning: it may come from outside);
//   - a method entities do not have, on a name known to hold an entity (error);
//   - a statistic no entity of that scope declares (error), or one no configured collector
//     fills, so it is always nil (warning): as an attribute, or as Stat's and StatAvg's string;
//   - a control no controller applies, or none of the configured ones (warning: it does nothing);
//   - a name with a second dot (`disk.maximum.total_bytes_sec`), whose later part MOM ignores: it
//     reads `disk.maximum` (warning: bind the object first, `(let ((m disk.maximum)) m.total...)`).
import type { List, Node, Program, StrLit, Sym } from './ast.js';
import { PREDEFINED_GLOBALS } from './check.js';
import { PolicyError } from './diagnostics.js';
import { entityReferences, type EntityKind, type EntityRefs } from './entity-refs.js';
import { boundNames, evaluatedChildren, setNames } from './names.js';
import { closest, didYouMean } from './suggest.js';
import { ENTITY_METHODS, type ScopeFields, type Vocabulary } from './vocabulary.js';

/**
 * The problems of a program's names, in no particular order. `extraGlobals` are the variables
 * defined before it runs besides the predefined ones (--env values).
 */
export function lintProgram(
  program: Program,
  vocabulary: Vocabulary,
  extraGlobals: readonly string[],
): PolicyError[] {
  const problems: PolicyError[] = [];
  const defNames = definedFunctions(program);
  const defined = new Set([
    ...boundNames(program),
    ...setNames(program),
    ...defNames,
    ...PREDEFINED_GLOBALS,
    ...extraGlobals,
  ]);
  const refs: EntityRefs = entityReferences(program, [
    ...PREDEFINED_GLOBALS.filter((g) => g !== 'Host' && g !== 'Guests'),
    ...extraGlobals,
  ]);
  let either: ScopeFields | undefined;
  for (const form of program.forms) visit(form);
  return problems;

  function error(node: Node, message: string): void {
    problems.push(new PolicyError('MOM_E_POLICY_STATIC', message, node.span));
  }
  function warning(node: Node, message: string): void {
    problems.push(new PolicyError('MOM_E_POLICY_STATIC', message, node.span, 'warning'));
  }

  function checkSecondDot(node: Sym): void {
    const parts = node.name.split('.');
    if (parts.length < 3) return;
    const read = `${parts[0]}.${parts[1]}`;
    warning(
      node,
      `'${node.name}' reads '${read}': a name reads one attribute and MOM ignores the rest ` +
        `('.${parts.slice(2).join('.')}'); bind '${read}' to a name first, as in (let ((x ${read})) x.${parts[2]}).`,
    );
  }

  function visit(node: Node): void {
    if (node.kind === 'symbol') {
      if (node.name === 'nil') return;
      checkDefined(node);
      checkSecondDot(node);
      if (node.attr !== undefined) checkAttribute(node, node.attr);
      return;
    }
    if (node.kind !== 'list') return;
    const head = node.items[0];
    if (head?.kind === 'symbol') {
      if (head.attr !== undefined && !defNames.has(head.name)) {
        checkDefined(head);
        checkMethodCall(node, head, head.attr);
      }
      const list = node.args[0];
      if (head.name === 'with' && list?.kind === 'symbol') visit(list);
    }
    for (const child of evaluatedChildren(node)) visit(child);
  }

  function checkDefined(sym: Sym): void {
    if (defined.has(sym.base)) return;
    warning(
      sym,
      `Variable '${sym.base}' is never defined: no defvar, set, let, with or parameter binds it` +
        didYouMean(sym.base, defined),
    );
  }

  /** `e.name` read as a value: a statistic or a method of the entity. */
  function checkAttribute(sym: Sym, attr: string): void {
    const kind = refs.kinds.get(sym);
    if (kind === undefined || ENTITY_METHODS.includes(attr)) return;
    // MOM would look for the attribute further out, where another binding may hold an object.
    if (refs.mayHoldObject.has(sym.base)) return;
    checkStatistic(sym, attr, kind, [...ENTITY_METHODS]);
  }

  /** `(e.Method args...)`. */
  function checkMethodCall(call: List, head: Sym, method: string): void {
    const kind = refs.kinds.get(head);
    if (ENTITY_METHODS.includes(method)) {
      const name = call.args[0];
      if (name?.kind !== 'string') return;
      // Only an entity has a callable Stat or Control, so the name is judged even when the
      // variable's kind is unknown (then against both scopes).
      if (method === 'Stat' || method === 'StatAvg') checkStatistic(name, name.value, kind ?? 'entity', []);
      if (method === 'Control') checkControl(name);
      return;
    }
    if (kind !== undefined) {
      if (fieldsOf(kind).known.has(method)) return; // calling a statistic: an error of another kind
      error(
        head,
        noSuch(kind, 'method', method) +
          didYouMean(method, ENTITY_METHODS, ` (the methods are ${ENTITY_METHODS.join(', ')}).`),
      );
      return;
    }
    // Of unknown kind: only a near miss of a method name is certain to be one.
    const near = closest(method, ENTITY_METHODS);
    if (near !== undefined && !fieldsOf('entity').known.has(method)) {
      error(head, `Entities have no method '${method}'; did you mean '${near}'?`);
    }
  }

  function checkStatistic(node: Sym | StrLit, name: string, kind: EntityKind, also: string[]): void {
    const fields = fieldsOf(kind);
    if (fields.configured.has(name)) return;
    if (fields.known.has(name)) {
      const collector = fields.collectorOf.get(name) ?? 'its collector';
      warning(
        node,
        `Statistic '${name}' comes from the collector ${collector}, which the configuration does not list: it is always nil.`,
      );
      return;
    }
    const elsewhere =
      kind === 'host' && vocabulary.guest.known.has(name)
        ? ' (it is a statistic of guests).'
        : kind === 'guest' && vocabulary.host.known.has(name)
          ? ' (it is a statistic of Host).'
          : undefined;
    error(
      node,
      noSuch(kind, 'statistic', name) + (elsewhere ?? didYouMean(name, [...fields.known, ...also])),
    );
  }

  function checkControl(node: StrLit): void {
    const name = node.value;
    if (vocabulary.configuredControls.has(name)) return;
    const by = vocabulary.controlOwners.get(name);
    if (by === undefined) {
      warning(
        node,
        `No controller applies the control '${name}'` +
          didYouMean(name, vocabulary.controlOwners.keys(), ': setting it does nothing.'),
      );
    } else if (vocabulary.fromConfiguration) {
      warning(
        node,
        `No configured controller applies the control '${name}': setting it does nothing (add ${by} to controllers).`,
      );
    }
  }

  function fieldsOf(kind: EntityKind): ScopeFields {
    if (kind === 'host') return vocabulary.host;
    if (kind === 'guest') return vocabulary.guest;
    either ??= {
      known: new Set([...vocabulary.host.known, ...vocabulary.guest.known]),
      configured: new Set([...vocabulary.host.configured, ...vocabulary.guest.configured]),
      collectorOf: new Map([...vocabulary.guest.collectorOf, ...vocabulary.host.collectorOf]),
    };
    return either;
  }
}

function noSuch(kind: EntityKind, what: 'method' | 'statistic', name: string): string {
  if (kind === 'host') return `Host has no ${what} '${name}'`;
  if (kind === 'guest') return `A guest has no ${what} '${name}'`;
  return `No entity has a ${what} '${name}'`;
}

/** Names of every def in the program, wherever it is. */
function definedFunctions(program: Program): Set<string> {
  const out = new Set<string>();
  const visit = (node: Node): void => {
    if (node.kind !== 'list') return;
    const [head, name] = node.items;
    if (head?.kind === 'symbol' && (head.name === 'def' || head.name === 'defun') && name?.kind === 'symbol')
      out.add(name.name);
    node.items.forEach(visit);
  };
  program.forms.forEach(visit);
  return out;
}
