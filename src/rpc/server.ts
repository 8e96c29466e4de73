// MOM's XML-RPC server, for oVirt's vdsm: POST / or /RPC2 with a methodCall, on a plain Node
// HTTP server that the daemon puts on a unix socket or on 127.0.0.1 (src/cli/momd-rpc.ts).
//
// Why no XML-RPC library: the npm ones were looked at in 2026-12. `xmlrpc` (1.3.2, last release
// 2016) has no types and writes every integer as <int>, so values beyond 32 bits come out wrong
// for a client; `davexmlrpc` pulls in the long-deprecated `request`; `@foxglove/xmlrpc` is built
// for ROS over fetch, and neither serves on a unix socket of ours. XML-RPC is small: the parsing
// is fast-xml-parser's (already a dependency: well-formedness with line and column, entities),
// the checking of the methodCall and the writing of responses are ours (decode.ts, encode.ts),
// with <i8> for integers beyond 32 bits as MOM sends them to vdsm.
//
// A body over 1 MiB is refused with HTTP 413 (the rest is read and thrown away, for at most 5 s); a body that is not a well-formed
// methodCall is an XML-RPC Fault naming what is wrong (HTTP 200, as XML-RPC clients expect: Python
// raises Fault with the message, where an HTTP error would lose it).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { discardBody } from '../http/discard-body.js';
import { KEEP_ALIVE_MS } from '../http/keep-alive.js';
import { decodeMethodCall } from './decode.js';
import { encodeFault, encodeResponse } from './encode.js';
import { callMethod, type MethodSpec } from './methods.js';
import { FAULT, XmlRpcFault } from './value.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const PATHS = new Set(['/', '/RPC2']);

export interface RpcServerOptions {
  readonly methods: ReadonlyMap<string, MethodSpec>;
  readonly log: Logger;
  /** Bytes; a larger request is refused with 413 (default 1 MiB). */
  readonly bodyLimit?: number;
}

/** A Node HTTP server answering XML-RPC calls; the caller listens and closes it. */
export function createRpcServer(opts: RpcServerOptions): Server {
  const limit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const server = createServer((req, res) => void handle(req, res, opts, limit));
  // A slow or silent client cannot hold a connection for long; the control loop never waits on it.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  // Later than clients' own pools drop idle sockets (Node's after 5 s): see src/http/keep-alive.ts.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: RpcServerOptions,
  limit: number,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (!PATHS.has(path)) return plain(res, 404, `no XML-RPC endpoint at ${path}: POST to / or /RPC2\n`);
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return plain(res, 405, 'XML-RPC: POST a methodCall\n');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return tooLarge(req, res, limit);
  const raw = await readBody(req, limit);
  if (raw === 'too large') return tooLarge(req, res, limit);
  if (raw === null) return; // the client went away
  let body: string;
  let method = '?';
  try {
    const call = decodeMethodCall(raw.toString('utf8'));
    method = call.method;
    const value = callMethod(opts.methods, call.method, call.params);
    body = encodeResponse(value);
    opts.log.debug({ rpc_method: method }, `XML-RPC ${method}`);
  } catch (err) {
    const fault =
      err instanceof XmlRpcFault
        ? err
        : new XmlRpcFault(FAULT.internal, `internal error: ${(err as Error).message}`);
    const level = fault.faultCode === FAULT.internal ? 'error' : 'info';
    opts.log[level](
      { rpc_method: method, fault_code: fault.faultCode },
      `XML-RPC ${method}: fault: ${fault.faultString}`,
    );
    body = encodeFault(fault);
  }
  res.writeHead(200, {
    'content-type': 'text/xml; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The body, 'too large' as soon as it passes the limit (reading stops), or null on an error. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too large' | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      // tooLarge answers 413 and discards the rest.
      resolve('too large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve(null));
  });
}

/**
 * 413, then the rest of the body is read and thrown away (memory does not grow) so the client,
 * still writing, gets to read the answer; a client that keeps sending past 5 s is cut off.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  res.setHeader('connection', 'close');
  plain(res, 413, `request body larger than ${limit} bytes\n`);
  void discardBody(req, 5_000).then((how) => {
    if (how === 'timeout') req.destroy();
  });
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
