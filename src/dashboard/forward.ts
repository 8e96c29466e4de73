// `momctl dashboard` on the unix socket: a browser cannot reach a unix socket, so momctl listens
// on a loopback port and forwards to it. The socket's 0600 mode is its guard; a TCP port is open
// to every local user, so the forwarder asks for a token made when it starts (printed in the URL
// after '#') and forwards reads only: whoever has the URL can watch, not change anything.
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { bearerCheck } from '../api/auth.js';
import { ASSET_PATHS } from './assets.js';

export interface Forwarder {
  /** The dashboard's URL, with the token after '#'. */
  readonly url: string;
  close(): Promise<void>;
}

export async function forwardDashboard(opts: {
  readonly socket: string;
  readonly host: string;
  readonly port: number;
}): Promise<Forwarder> {
  const token = randomBytes(18).toString('base64url');
  const check = bearerCheck(token);
  const open = new Set(ASSET_PATHS);
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method !== 'GET') return refuse(res, 405, 'momctl dashboard forwards reads only');
    if (!open.has(path.split('?')[0] ?? '') && !check(req.headers.authorization))
      return refuse(res, 401, 'unauthorized');
    forward(opts.socket, path, req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/#token=${token}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function forward(socket: string, path: string, req: IncomingMessage, res: ServerResponse): void {
  const up = request({
    socketPath: socket,
    path,
    method: 'GET',
    headers: { accept: req.headers.accept ?? '*/*' },
  });
  up.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', (err) => {
    if (!res.headersSent) refuse(res, 502, `momd does not answer on ${socket}: ${err.message}`);
    else res.destroy();
  });
  // The browser went away (a closed tab ends its event stream): so does the request to momd.
  res.on('close', () => up.destroy());
  up.end();
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: status === 401 ? 'unauthorized' : 'refused', message }));
}
