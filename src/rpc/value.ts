// The XML-RPC data model (https://xmlrpc.com/spec.md) as momd's RPC server sees it: what a
// method receives and returns. A JS number is an <int> when it is an integer within 32 bits, an
// <i8> when it is a larger safe integer, else a <double>; a bigint is an <i8>.
export type XmlRpcValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | Date
  | readonly XmlRpcValue[]
  | { readonly [name: string]: XmlRpcValue };

/** An XML-RPC fault: a method's error as the client sees it (Python raises xmlrpc.client.Fault). */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(faultString);
    this.name = 'XmlRpcFault';
  }
}

/**
 * Fault codes, those of the XML-RPC fault code interoperability proposal
 * (http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php) where one fits; 1 is a method's
 * own failure (a rejected policy), as Python's SimpleXMLRPCServer reports an exception.
 */
export const FAULT = {
  /** The method ran and refused: a policy that does not check, an unknown name. */
  failed: 1,
  notWellFormed: -32700,
  invalidXmlRpc: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
} as const;

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
