// The policy AST: what the parser produces once per load and the evaluator walks every cycle.
// Every node carries the span of its source text so any later error can name file, line and column.

export interface Span {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/** MOM's twelve binary operators, mapped to the names they also answer to. */
export const OPERATOR_NAMES = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '<': 'lt',
  '>': 'gt',
  '<=': 'lte',
  '>=': 'gte',
  '==': 'eq',
  '!=': 'neq',
  '<<': 'shl',
  '>>': 'shr',
} as const;
export type Operator = keyof typeof OPERATOR_NAMES;

export interface IntLit {
  readonly kind: 'int';
  readonly value: bigint;
  readonly span: Span;
}
export interface FloatLit {
  readonly kind: 'float';
  readonly value: number;
  readonly span: Span;
}
export interface StrLit {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}
/** A name. `base`/`attr` pre-split the first dot (`guest.balloon_cur`); MOM ignores any later dot. */
export interface Sym {
  readonly kind: 'symbol';
  readonly name: string;
  readonly base: string;
  readonly attr: string | undefined;
  readonly span: Span;
}
/** An operator token; only meaningful in call position, where it stands for its alias name. */
export interface OpSym {
  readonly kind: 'operator';
  readonly op: Operator;
  readonly name: string;
  readonly span: Span;
}
/** `( ... )`, `[ ... ]`, or `{ ... }` (a block, which the parser turns into `(eval ...)`). */
export interface List {
  readonly kind: 'list';
  readonly open: '(' | '[' | '{';
  readonly items: readonly Node[];
  /** items without the head: the arguments when the list is a call (computed once, at parse time). */
  readonly args: readonly Node[];
  readonly span: Span;
}

export type Node = IntLit | FloatLit | StrLit | Sym | OpSym | List;

/** A parsed policy set: top-level forms from every file, in load order. */
export interface Program {
  readonly forms: readonly Node[];
  readonly files: readonly string[];
}

export function assertNever(x: never): never {
  throw new Error(`unexpected node ${JSON.stringify(x)}`);
}

export function describeNode(node: Node): string {
  switch (node.kind) {
    case 'int':
    case 'float':
      return 'a number';
    case 'string':
      return 'a string';
    case 'symbol':
      return `the symbol '${node.name}'`;
    case 'operator':
      return `the operator '${node.op}'`;
    case 'list':
      return 'a list';
    default:
      return assertNever(node);
  }
}

/** What a list's head is, for "Cannot call X" messages. */
export function describeCallee(node: Node): string {
  switch (node.kind) {
    case 'list':
      return 'a list';
    case 'string':
      return `the string "${node.value}"`;
    case 'int':
    case 'float':
      return `the number ${String(node.value)}`;
    default:
      return describeNode(node);
  }
}

export function makeSymbolParts(name: string): { base: string; attr: string | undefined } {
  const dot = name.indexOf('.');
  if (dot < 0) return { base: name, attr: undefined };
  const next = name.indexOf('.', dot + 1);
  return { base: name.slice(0, dot), attr: name.slice(dot + 1, next < 0 ? undefined : next) };
}
