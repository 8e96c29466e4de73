// Writes XML-RPC responses: a method's return value or a fault. Integers beyond 32 bits are
// written as <i8>, as MOM's server does for vdsm (Python's xmlrpc.client reads <i8> as int).
import { FAULT, INT32_MAX, INT32_MIN, XmlRpcFault, type XmlRpcValue } from './value.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Escapes text for element content: &, < and > (and \r, which XML would turn into \n). */
export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;',
  );
}

/** One <value> element. Throws XmlRpcFault (internal) for what XML-RPC cannot carry. */
export function encodeValue(v: XmlRpcValue): string {
  return `<value>${encodeInner(v)}</value>`;
}

function encodeInner(v: XmlRpcValue): string {
  if (v === null) return '<nil/>';
  switch (typeof v) {
    case 'string':
      return `<string>${escapeText(v)}</string>`;
    case 'boolean':
      return `<boolean>${v ? 1 : 0}</boolean>`;
    case 'bigint':
      if (v < -(2n ** 63n) || v > 2n ** 63n - 1n)
        throw new XmlRpcFault(FAULT.internal, `${v} exceeds 64 bits`);
      return `<i8>${v}</i8>`;
    case 'number':
      return encodeNumber(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) return `<base64>${Buffer.from(v).toString('base64')}</base64>`;
  if (v instanceof Date) return `<dateTime.iso8601>${isoBasic(v)}</dateTime.iso8601>`;
  if (Array.isArray(v)) {
    return `<array><data>${(v as readonly XmlRpcValue[]).map(encodeValue).join('')}</data></array>`;
  }
  const members = Object.entries(v as { readonly [name: string]: XmlRpcValue }).map(
    ([name, value]) => `<member><name>${escapeText(name)}</name>${encodeValue(value)}</member>`,
  );
  return `<struct>${members.join('')}</struct>`;
}

function encodeNumber(n: number): string {
  if (Number.isInteger(n)) {
    if (n >= INT32_MIN && n <= INT32_MAX) return `<int>${n}</int>`;
    if (Number.isSafeInteger(n)) return `<i8>${n}</i8>`;
  }
  // NaN and the infinities have no XML-RPC form; Python's float() would read them, others not.
  if (!Number.isFinite(n)) throw new XmlRpcFault(FAULT.internal, `${n} cannot be sent over XML-RPC`);
  return `<double>${n}</double>`;
}

/** 20260102T03:04:05, the form Python's xmlrpc.client writes and reads (UTC). */
function isoBasic(d: Date): string {
  return d
    .toISOString()
    .replace(/-/g, '')
    .replace(/\.\d{3}Z$/, '');
}

/** A methodResponse carrying one return value. */
export function encodeResponse(v: XmlRpcValue): string {
  return `${XML_DECLARATION}<methodResponse><params><param>${encodeValue(v)}</param></params></methodResponse>\n`;
}

/** A methodResponse carrying a fault. */
export function encodeFault(f: XmlRpcFault): string {
  const body = encodeValue({ faultCode: f.faultCode, faultString: f.faultString });
  return `${XML_DECLARATION}<methodResponse><fault>${body}</fault></methodResponse>\n`;
}
