// Reads an XML-RPC methodCall into the method's name and its arguments. fast-xml-parser (already a
// dependency) checks that the XML is well formed and gives the element tree in document order;
// this file checks the tree is a methodCall and turns each <value> into an XmlRpcValue. A request
// that is not well formed, or not a methodCall, is an XmlRpcFault naming what is wrong.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FAULT, XmlRpcFault, type XmlRpcValue } from './value.js';

export interface MethodCall {
  readonly method: string;
  readonly params: readonly XmlRpcValue[];
}

/** An element of the tree: its name and its children (elements and text) in order. */
interface Element {
  readonly name: string;
  readonly children: readonly Node[];
}
type Node = Element | { readonly text: string };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  trimValues: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
});

const invalid = (what: string): XmlRpcFault =>
  new XmlRpcFault(FAULT.invalidXmlRpc, `not an XML-RPC call: ${what}`);

/** Parses a request body. Throws XmlRpcFault. */
export function decodeMethodCall(xml: string): MethodCall {
  // Entity declarations are where XML's expansion attacks live; XML-RPC has no use for them.
  if (/<!DOCTYPE/i.test(xml))
    throw new XmlRpcFault(FAULT.notWellFormed, 'malformed XML: a DOCTYPE is not allowed');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new XmlRpcFault(FAULT.notWellFormed, `malformed XML at line ${line}, column ${col}: ${msg}`);
  }
  let tree: unknown;
  try {
    tree = parser.parse(xml);
  } catch (err) {
    // The validator lets a few malformed documents through that the parser then refuses
    // (`<?xml vers1.0"?>`: "Pi Tag is not closed", found by test/fuzz/xmlrpc-fuzz.test.ts).
    throw new XmlRpcFault(FAULT.notWellFormed, `malformed XML: ${(err as Error).message}`);
  }
  const roots = elements(toNodes(tree), 'the document');
  const call = roots.length === 1 ? roots[0] : undefined;
  if (call?.name !== 'methodCall')
    throw invalid(
      `the root element must be <methodCall>, not ${roots.map((r) => `<${r.name}>`).join(', ') || 'nothing'}`,
    );
  const parts = elements(call.children, '<methodCall>');
  const nameEl = parts.find((e) => e.name === 'methodName');
  if (nameEl === undefined) throw invalid('<methodName> is missing');
  const method = textOf(nameEl).trim();
  if (method === '') throw invalid('<methodName> is empty');
  const paramsEl = parts.find((e) => e.name === 'params');
  const params = paramsEl === undefined ? [] : elements(paramsEl.children, '<params>').map(decodeParam);
  return { method, params };
}

function decodeParam(p: Element): XmlRpcValue {
  if (p.name !== 'param') throw invalid(`<${p.name}> in <params>, expected <param>`);
  const value = only(elements(p.children, '<param>'), '<param>');
  return decodeValue(value);
}

/** One <value> element. Exported for the tests. */
export function decodeValue(v: Element): XmlRpcValue {
  if (v.name !== 'value') throw invalid(`<${v.name}> where a <value> was expected`);
  // <value>text</value> with no type element is a string.
  if (!v.children.some((c) => 'name' in c)) return textOf(v);
  const typed = only(elements(v.children, '<value>'), '<value>');
  const scalar = ['array', 'struct'].includes(typed.name) ? '' : textOf(typed);
  const text = scalar;
  switch (typed.name) {
    case 'string':
      return text;
    case 'int':
    case 'i4':
    case 'i8':
      return decodeInteger(typed.name, text.trim());
    case 'boolean': {
      const t = text.trim();
      if (t !== '0' && t !== '1') throw invalid(`<boolean> must be 0 or 1, not '${t}'`);
      return t === '1';
    }
    case 'double': {
      const t = text.trim();
      const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
      if (!Number.isFinite(n)) throw invalid(`<double> '${t}' is not a number`);
      return n;
    }
    case 'nil':
      return null;
    case 'base64':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64');
    case 'dateTime.iso8601':
      return text.trim();
    case 'array': {
      const data = only(elements(typed.children, '<array>'), '<array>');
      if (data.name !== 'data') throw invalid(`<${data.name}> in <array>, expected <data>`);
      return elements(data.children, '<data>').map(decodeValue);
    }
    case 'struct': {
      const out: Record<string, XmlRpcValue> = {};
      for (const m of elements(typed.children, '<struct>')) {
        if (m.name !== 'member') throw invalid(`<${m.name}> in <struct>, expected <member>`);
        const parts = elements(m.children, '<member>');
        const name = parts.find((e) => e.name === 'name');
        const value = parts.find((e) => e.name === 'value');
        if (name === undefined || value === undefined)
          throw invalid('a <member> needs a <name> and a <value>');
        Object.defineProperty(out, textOf(name), {
          value: decodeValue(value),
          enumerable: true,
          writable: true,
        });
      }
      return out;
    }
    default:
      throw invalid(`unknown value type <${typed.name}>`);
  }
}

/** <int>, <i4> (32 bits) and <i8> (64 bits, as MOM and vdsm send large numbers). */
function decodeInteger(type: string, t: string): number | bigint {
  if (!/^[+-]?\d+$/.test(t)) throw invalid(`<${type}> '${t}' is not an integer`);
  const big = BigInt(t);
  const bits = type === 'i8' ? 64n : 32n;
  if (big < -(2n ** (bits - 1n)) || big > 2n ** (bits - 1n) - 1n)
    throw invalid(`<${type}> ${t} does not fit in ${bits} bits`);
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

function only(list: readonly Element[], where: string): Element {
  if (list.length !== 1) throw invalid(`${where} must hold exactly one element, it holds ${list.length}`);
  return list[0] as Element;
}

/** The element children; text other than white space between them is an error. */
function elements(nodes: readonly Node[], where: string): Element[] {
  const out: Element[] = [];
  for (const n of nodes) {
    if ('name' in n) out.push(n);
    else if (n.text.trim() !== '')
      throw invalid(`unexpected text '${n.text.trim().slice(0, 40)}' in ${where}`);
  }
  return out;
}

function textOf(e: Element): string {
  let s = '';
  for (const c of e.children) {
    if ('name' in c) throw invalid(`<${c.name}> inside <${e.name}>, which holds text`);
    s += c.text;
  }
  return s;
}

/** fast-xml-parser's preserveOrder output ({tag: children, ':@': attributes} or {'#text': s}) as Nodes. */
function toNodes(raw: unknown): Node[] {
  if (!Array.isArray(raw)) return [];
  const out: Node[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    for (const [key, val] of Object.entries(item as Record<string, unknown>)) {
      if (key === ':@') continue;
      if (key === '#text') out.push({ text: String(val) });
      else out.push({ name: key, children: toNodes(val) });
    }
  }
  return out;
}
