// The control API over HTTP (docs/api.md): JSON under /v1/, served by fastify. Reads come from the
// read model, writes go to the command port; nothing here touches the engine. The same routes
// serve the unix socket (no token: its 0600 mode is the guard) and the TCP listener (a bearer
// token on every request, checked before the body is read).
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fastify, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Verbosity } from '../config/index.js';
import { discardBody } from '../http/discard-body.js';
import { KEEP_ALIVE_MS } from '../http/keep-alive.js';
import { ASSET_PATHS, type Assets } from '../dashboard/assets.js';
import type { Timeline } from '../dashboard/timeline.js';
import { bearerCheck } from './auth.js';
import type { CommandPort, PolicyUpload } from './command-port.js';
import { EventStream } from './event-stream.js';
import type { ReadModel } from './read-model.js';
import {
  BODY_LIMIT,
  countOf,
  decisionsQuery,
  dryRunBody,
  guestList,
  guestParams,
  historyQuery,
  policyBody,
  timelineQuery,
  verbosityBody,
} from './schemas.js';

/** Samples of history a read returns unless ?history=N asks for more (or fewer). */
const DEFAULT_HISTORY = 60;

export interface ApiServerOptions {
  readonly model: ReadModel;
  readonly commands: CommandPort;
  readonly log: Logger;
  /** Required on every request when set (the TCP listener). */
  readonly token?: string;
  /** PEM certificate and key: serve HTTPS. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly bodyLimit?: number;
  /** The event stream; one is shared by every listener of a daemon. */
  readonly stream: EventStream;
  /** The dashboard's history (GET /v1/timeline) and its page (GET /). */
  readonly timeline?: Timeline;
  readonly assets?: Assets;
  /** Refuse every request that is not a read (a recording opened in the dashboard). */
  readonly readOnly?: string;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** The node server to listen on (after `await app.ready()`). */
  readonly server: Server;
}

/** An HTTP error with the body this API answers with: `{ error, message?, errors? }`. */
interface ErrorBody {
  readonly error: string;
  readonly message?: string;
  readonly errors?: readonly string[];
}

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key })
    : createHttpServer();
  // Slow or stalled clients: a request must arrive in full within 10 s; idle keep-alive sockets close
  // after KEEP_ALIVE_MS, later than clients' own pools drop them (Node's after 5 s), so that a
  // client does not reuse a socket at the moment the server closes it (EPIPE, ECONNRESET).
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.maxConnections = 256;
  const app = fastify({
    serverFactory: (handler) => server.on('request', handler),
    bodyLimit: opts.bodyLimit ?? BODY_LIMIT,
    logger: false,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  // The built-in parser's errors do not say where the JSON is broken; this one does.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(httpError(400, `malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });

  if (opts.token !== undefined) {
    const check = bearerCheck(opts.token);
    const open = new Set(ASSET_PATHS);
    app.addHook('onRequest', async (req, reply) => {
      // The dashboard's page and script carry no data; the requests they make carry the token.
      if (req.method === 'GET' && open.has(req.url.split('?')[0] ?? '')) return;
      if (check(req.headers.authorization)) return;
      // No detail: whether the header was missing, malformed or wrong is not the client's to know.
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    });
  }

  const readOnly = opts.readOnly;
  if (readOnly !== undefined)
    app.addHook('onRequest', async (req, reply) => {
      if (req.method === 'GET' || req.method === 'HEAD') return;
      await reply.code(405).send({ error: 'method not allowed', message: readOnly } satisfies ErrorBody);
    });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      return reply.code(400).send({ error: 'bad request', message: err.message } satisfies ErrorBody);
    }
    const status = err.statusCode ?? 500;
    // Answered at once, the connection (which fastify closes after a body over the limit) would
    // close under a client still sending: it gets EPIPE and may never read its 413.
    if (status === 413)
      return void discardBody(req.raw, 5_000).then(
        () => void reply.code(413).send({ error: errorName(413), message: err.message } satisfies ErrorBody),
      );
    if (status >= 500) {
      opts.log.error({ err: err.message, url: req.url }, 'API request failed');
      return reply.code(500).send({ error: 'internal error' } satisfies ErrorBody);
    }
    return reply.code(status).send({ error: errorName(status), message: err.message } satisfies ErrorBody);
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: 'not found', message: `no route ${req.method} ${req.url}` } satisfies ErrorBody),
  );

  const { model, commands } = opts;
  app.get('/v1/status', async () => model.status());
  app.get<{ Querystring: { history?: string } }>(
    '/v1/host',
    { schema: { querystring: historyQuery } },
    async (req) => model.hostView(countOf(req.query.history) ?? DEFAULT_HISTORY),
  );
  app.get('/v1/guests', async () => model.guests());
  app.get<{ Params: { name: string }; Querystring: { history?: string } }>(
    '/v1/guests/:name',
    { schema: { params: guestParams, querystring: historyQuery } },
    async (req, reply) => {
      const g = model.guest(req.params.name, countOf(req.query.history) ?? DEFAULT_HISTORY);
      if (g === undefined)
        return reply.code(404).send({ error: 'not found', message: `no guest named '${req.params.name}'` });
      return g;
    },
  );
  app.get('/v1/policy', async (_req, reply) => {
    const p = model.policy();
    if (p === null) return reply.code(404).send({ error: 'not found', message: 'no policy is in force' });
    return p;
  });
  app.get<{ Querystring: { limit?: string } }>(
    '/v1/decisions',
    { schema: { querystring: decisionsQuery } },
    async (req) => model.decisions(countOf(req.query.limit) ?? 50),
  );
  app.get('/v1/snapshot', async (_req, reply) => {
    const s = model.snapshot();
    if (s === null)
      return reply
        .code(404)
        .send({ error: 'not found', message: 'no policy cycle has evaluated the policy yet' });
    return s;
  });
  app.get('/v1/events', (_req, reply) => {
    reply.hijack();
    if (!opts.stream.open(reply.raw)) {
      reply.raw.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      reply.raw.end(JSON.stringify({ error: 'unavailable', message: 'too many event stream clients' }));
    }
  });

  const timeline = opts.timeline;
  if (timeline !== undefined)
    app.get<{ Querystring: { after?: string; guests?: string } }>(
      '/v1/timeline',
      { schema: { querystring: timelineQuery } },
      async (req) =>
        timeline.view({
          ...(req.query.after !== undefined ? { after: Number(req.query.after) } : {}),
          guests: guestList(req.query.guests),
        }),
    );
  const assets = opts.assets;
  if (assets !== undefined)
    for (const path of ASSET_PATHS)
      app.get(path, async (_req, reply) => {
        if (!assets.ok)
          return reply
            .code(503)
            .send({ error: 'unavailable', message: `the dashboard was not built: ${assets.why}` });
        const a = assets.files.get(path);
        if (a === undefined) return reply.code(404).send({ error: 'not found' });
        return reply
          .header('content-type', a.type)
          .header('cache-control', 'no-cache')
          .header('x-content-type-options', 'nosniff')
          .header(
            'content-security-policy',
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
          )
          .header('referrer-policy', 'no-referrer')
          .send(a.body);
      });

  app.put<{ Body: { files: PolicyUpload[] } }>(
    '/v1/policy',
    { schema: { body: policyBody } },
    async (req, reply) => {
      const r = commands.setPolicy(req.body.files);
      if (!r.ok)
        return reply.code(422).send({
          error: 'policy rejected',
          message: 'the policy does not parse or check; the running policy stays in force',
          errors: r.errors,
        } satisfies ErrorBody);
      return r;
    },
  );
  app.post('/v1/reload', async (_req, reply) => {
    const r = commands.reload();
    if (!r.ok)
      return reply.code(422).send({
        error: 'reload rejected',
        message: 'the configuration or its policy does not load; the running one stays in force',
        errors: r.problems,
      } satisfies ErrorBody);
    return r;
  });
  app.put<{ Body: { enabled: boolean } }>('/v1/dry-run', { schema: { body: dryRunBody } }, async (req) =>
    commands.setDryRun(req.body.enabled),
  );
  app.put<{ Body: { level: Verbosity } }>('/v1/verbosity', { schema: { body: verbosityBody } }, async (req) =>
    commands.setVerbosity(req.body.level),
  );
  return { app, server };
}

/** Stops listening and drops open connections (keep-alive, event streams) so the process can exit. */
export async function closeApiServer({ app, server }: ApiServer): Promise<void> {
  await app.close();
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

function errorName(status: number): string {
  const names: Record<number, string> = {
    400: 'bad request',
    401: 'unauthorized',
    404: 'not found',
    405: 'method not allowed',
    413: 'payload too large',
    415: 'unsupported media type',
    422: 'unprocessable',
  };
  return names[status] ?? 'error';
}
