// Runtime values of the policy language and MOM's (Python's) rules for them: integers (bigint,
// unbounded) and floats (number) stay distinct, booleans count as the integers 0 and 1 in arithmetic,
// and truthiness, equality and ordering follow Python 3.

/** Something a policy can call: a built-in such as `abs`, or an entity method such as `Host.Stat`. */
export interface PolicyFunction {
  readonly kind: 'function';
  readonly name: string;
  /** Throws ValueError for a bad argument; the evaluator adds the position. */
  call(args: readonly Value[]): Value;
}

/** An object whose attributes a dotted name reads (`Host.mem_free`, `cfg.threshold`). */
export interface PolicyObject {
  readonly kind: 'object';
  /** What `debug` and JSON output show for it. */
  readonly label: string;
  /** The attribute's value, or undefined when the object has no such attribute. */
  getAttribute(name: string): Value | undefined;
  /** Its JSON form for `momctl policy run` and events; without it, its label. */
  toJson?(): Json;
  /**
   * Whether `name` is a method the object calls itself (with invoke), so that `(obj.name args)`
   * makes no function value: entity methods and io_tune setters, called for every guest.
   */
  hasMethod?(name: string): boolean;
  /** Calls the method `name` (hasMethod); throws ValueError for bad arguments. */
  invoke?(name: string, args: readonly Value[]): Value;
}

export type Value =
  null | boolean | bigint | number | string | readonly Value[] | PolicyFunction | PolicyObject;

/** A problem with values (a type mismatch, a division by zero); the evaluator attaches the span. */
export class ValueError extends Error {}

export function typeName(v: Value): string {
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    default:
      if (Array.isArray(v)) return 'list';
      return (v as PolicyFunction | PolicyObject).kind === 'function' ? 'function' : 'object';
  }
}

export function isList(v: Value): v is readonly Value[] {
  return Array.isArray(v);
}

/** Python truthiness: 0, 0.0, "", nil, False and the empty list are false. */
export function isTruthy(v: Value): boolean {
  if (v === null || v === false || v === 0n || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

type Num = bigint | number;

/** A number as a float; like Python, an integer too large for a float is an error, not infinity. */
export function toFloat(x: Num): number {
  if (typeof x === 'number') return x;
  const f = Number(x);
  if (!Number.isFinite(f)) throw new ValueError('Integer too large to convert to a float');
  return f;
}
/** int or float (bool counts as int), or undefined when v is not numeric. */
function asNumber(v: Value): Num | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}
function asInt(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

function unsupported(op: string, a: Value, b: Value): ValueError {
  return new ValueError(`Unsupported operand types for '${op}': ${typeName(a)} and ${typeName(b)}`);
}

const MAX_REPEAT_LENGTH = 1 << 24;
function repeat<T extends string | readonly Value[]>(seq: T, times: bigint): T {
  const n = times < 0n ? 0 : Number(times);
  if (n * seq.length > MAX_REPEAT_LENGTH) throw new ValueError('Repetition result too large');
  if (typeof seq === 'string') return seq.repeat(n) as T;
  const out: Value[] = [];
  for (let i = 0; i < n; i++) out.push(...(seq as readonly Value[]));
  return out as unknown as T;
}

export function add(a: Value, b: Value): Value {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) {
    if (typeof x === 'bigint' && typeof y === 'bigint') return x + y;
    return toFloat(x) + toFloat(y);
  }
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (isList(a) && isList(b)) return [...a, ...b];
  throw unsupported('+', a, b);
}

export function sub(a: Value, b: Value): Value {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a - b;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) throw unsupported('-', a, b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x - y;
  return toFloat(x) - toFloat(y);
}

export function mul(a: Value, b: Value): Value {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a * b;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) {
    if (typeof x === 'bigint' && typeof y === 'bigint') return x * y;
    return toFloat(x) * toFloat(y);
  }
  const ia = asInt(a);
  const ib = asInt(b);
  if ((typeof a === 'string' || isList(a)) && ib !== undefined) return repeat(a, ib);
  if ((typeof b === 'string' || isList(b)) && ia !== undefined) return repeat(b, ia);
  throw unsupported('*', a, b);
}

/** True division, as in Python 3: the result is always a float. */
export function div(a: Value, b: Value): Value {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) throw unsupported('/', a, b);
  if (y === 0n || y === 0) throw new ValueError('Division by zero');
  if (typeof x === 'bigint' && typeof y === 'bigint' && (isBig(x) || isBig(y))) return divideInts(x, y);
  return toFloat(x) / toFloat(y);
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
function isBig(x: bigint): boolean {
  return x > SAFE || x < -SAFE;
}
function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * a / b for integers beyond 2^53, rounded once from the exact quotient as Python does (converting
 * each operand to a float first would round twice, or overflow when only the quotient fits).
 */
function divideInts(a: bigint, b: bigint): number {
  const negative = a < 0n !== b < 0n;
  const n = a < 0n ? -a : a;
  const d = b < 0n ? -b : b;
  // Scale so the integer quotient has at least 64 significant bits, then fold the remainder into
  // a sticky low bit so that Number() (round half to even) sees which side of half it lies.
  const shift = Math.max(0, 64 - (bitLength(n) - bitLength(d)));
  const scaled = n << BigInt(shift);
  let q = scaled / d;
  let exp = shift;
  if (scaled % d !== 0n) {
    q = (q << 1n) | 1n;
    exp += 1;
  }
  const mant = Number(q);
  const result = exp > 1000 ? mant / 2 ** 1000 / 2 ** (exp - 1000) : mant / 2 ** exp;
  if (!Number.isFinite(result)) throw new ValueError('Integer division result too large for a float');
  return negative ? -result : result;
}

const MAX_SHIFT = 1n << 16n;
export function shl(a: Value, b: Value): Value {
  const x = asInt(a);
  const y = asInt(b);
  if (x === undefined || y === undefined) throw unsupported('<<', a, b);
  if (y < 0n) throw new ValueError('Negative shift count');
  if (y > MAX_SHIFT) throw new ValueError(`Shift count ${y} is too large`);
  return x << y;
}

export function shr(a: Value, b: Value): Value {
  const x = asInt(a);
  const y = asInt(b);
  if (x === undefined || y === undefined) throw unsupported('>>', a, b);
  if (y < 0n) throw new ValueError('Negative shift count');
  return x >> y;
}

/** Python `==`: numbers by value across int/float/bool, lists element-wise, objects by identity. */
export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) return x == y; // loose equality compares bigint and number exactly
  if (isList(a) && isList(b)) return a.length === b.length && a.every((v, i) => equals(v, b[i] as Value));
  return false;
}

/** Python ordering: -1, 0 or 1; numbers with numbers, strings with strings, lists with lists only. */
export function compare(a: Value, b: Value, op: string): number {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (isList(a) && isList(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const ai = a[i] as Value;
      const bi = b[i] as Value;
      if (!equals(ai, bi)) return compare(ai, bi, op);
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  throw new ValueError(`Cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`);
}

/** Orders strings by code point, as Python does (UTF-16 units differ above U+FFFF). */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length < b.length ? -1 : 1;
  // Step back onto the start of a surrogate pair if the difference is in its second half.
  const lowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
  if (i > 0 && lowSurrogate(a.charCodeAt(i)) && lowSurrogate(b.charCodeAt(i))) i--;
  return (a.codePointAt(i) ?? 0) < (b.codePointAt(i) ?? 0) ? -1 : 1;
}

export function absolute(v: Value): Value {
  const x = asNumber(v);
  if (x === undefined) throw new ValueError(`abs expects a number, got ${typeName(v)}`);
  if (typeof x === 'bigint') return x < 0n ? -x : x;
  return Math.abs(x);
}

/** Python's str() of a value, for `debug` and messages. */
export function show(v: Value): string {
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return v ? 'True' : 'False';
    case 'bigint':
      return v.toString();
    case 'number':
      return showFloat(v);
    case 'string':
      return v;
    default:
      if (isList(v)) return `[${v.map((e) => (typeof e === 'string' ? `'${e}'` : show(e))).join(', ')}]`;
      return v.kind === 'function' ? `<function ${v.name}>` : v.label;
  }
}

/** Python's repr of a float: `2.0`, `-0.0`, `1e+16`, `1e-05`, `inf`, `nan`. */
function showFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  if (a >= 1e16 || a < 1e-4) {
    const [mant = '', exp = ''] = v.toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mant}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * The JSON form used by `momctl policy eval/run`: integers as numbers (as decimal strings beyond
 * 2^53, where a JSON number would lose digits), floats as numbers, nil as null, lists as arrays.
 */
export function toJson(v: Value): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : show(v);
  if (isList(v)) return v.map(toJson);
  return v.kind === 'function' ? `<function ${v.name}>` : (v.toJson?.() ?? v.label);
}

/** A plain JSON value (from --env or a snapshot) as a policy value: integral numbers become ints. */
export function fromJson(j: unknown, label = 'value'): Value {
  if (j === null || j === undefined) return null;
  if (typeof j === 'boolean' || typeof j === 'string') return j;
  if (typeof j === 'number') return Number.isInteger(j) ? BigInt(j) : j;
  if (Array.isArray(j)) return j.map((e, i) => fromJson(e, `${label}[${i}]`));
  if (typeof j === 'object') return new RecordValue(j as Record<string, unknown>, label);
  throw new ValueError(`${label}: unsupported JSON value`);
}

/** A JSON object seen by a policy: its fields are read with dotted names (`cfg.threshold`). */
export class RecordValue implements PolicyObject {
  readonly kind = 'object';
  private readonly fields = new Map<string, Value>();
  constructor(
    obj: Record<string, unknown>,
    readonly label: string,
  ) {
    for (const [k, v] of Object.entries(obj)) this.fields.set(k, fromJson(v, `${label}.${k}`));
  }
  getAttribute(name: string): Value | undefined {
    return this.fields.get(name);
  }
}

/** Wraps a host function as a policy function with a fixed arity. */
export function nativeFunction(
  name: string,
  arity: { min: number; max: number },
  fn: (args: readonly Value[]) => Value,
): PolicyFunction {
  return {
    kind: 'function',
    name,
    call(args) {
      if (args.length < arity.min || args.length > arity.max) {
        throw new ValueError(`'${name}' expects ${describeArity(arity)}, got ${args.length}`);
      }
      return fn(args);
    },
  };
}

export function describeArity({ min, max }: { min: number; max: number }): string {
  const plural = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;
  if (min === max) return plural(min);
  if (max === Infinity) return `at least ${plural(min)}`;
  return `${min} to ${max} arguments`;
}
