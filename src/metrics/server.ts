// The HTTP side of the metrics: GET /metrics in the Prometheus text format, on the address of
// `metrics-listen`. Node's own http module is enough for one read-only route; the registry is
// read at each scrape, so a scrape costs no work in the cycle.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../config/index.js';
import { MomError } from '../errors.js';

export interface MetricsServer {
  /** The address actually bound (the port the system chose for port 0). */
  readonly address: ListenAddress;
  /** http://HOST:PORT/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts serving; rejects with MOM_E_LISTEN naming the address when it cannot listen there. */
export async function startMetricsServer(registry: Registry, listen: ListenAddress): Promise<MetricsServer> {
  const server = createServer((req, res) => void respond(registry, req, res));
  // A scraper that opens a connection and says nothing is not kept for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new MomError(
          'MOM_E_LISTEN',
          `metrics-listen ${format(listen)}: cannot listen there: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another process has that port)' : ''}`,
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const address = { host: listen.host, port: bound.port };
  return {
    address,
    url: `http://${format(address)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
    return;
  }
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('momd serves its metrics at /metrics\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
  }
}

function format(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
