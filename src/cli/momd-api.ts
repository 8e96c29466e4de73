// The daemon's control API: the unix socket (always, unless api-socket is empty) and the TCP
// listener (with api-listen, behind the bearer token of api-token-file, HTTPS with api-tls-*).
// Both serve the same routes from the same read model, command port and event stream.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CommandPort } from '../api/command-port.js';
import { EventStream } from '../api/event-stream.js';
import { listenTcp, listenUnix, prepareSocketFolder } from '../api/listen.js';
import type { ReadModel } from '../api/read-model.js';
import { closeApiServer as closeServer, createApiServer, type ApiServer } from '../api/server.js';
import { socketCandidates } from '../api/socket-path.js';
import type { MomConfig } from '../config/index.js';
import type { Assets } from '../dashboard/assets.js';
import type { Timeline } from '../dashboard/timeline.js';
import { MomError } from '../errors.js';

export interface RunningApi {
  /** Where it listens, for the status line: the socket path and the TCP address. */
  readonly socket: string | null;
  readonly tcp: string | null;
  /** How to reach it, for the log once momd has started. */
  readonly hints: readonly { readonly fields: Record<string, string>; readonly message: string }[];
  close(): Promise<void>;
}

export interface DashboardOptions {
  readonly timeline: Timeline;
  readonly assets: Assets;
  /**
   * momd --dashboard: one more TCP listener, on a loopback address, behind a token made at start
   * and printed in the dashboard's URL (after '#', which browsers never send).
   */
  readonly listen?: { readonly host: string; readonly port: number };
}

/** Starts the listeners the configuration asks for. Throws MomError MOM_E_API when one cannot start. */
export async function startApi(
  config: MomConfig,
  model: ReadModel,
  commands: CommandPort,
  log: Logger,
  dashboard?: DashboardOptions,
): Promise<RunningApi> {
  const main = config.main;
  const stream = new EventStream(model, {}, dashboard?.timeline);
  const page = dashboard ? { timeline: dashboard.timeline, assets: dashboard.assets } : {};
  const servers: ApiServer[] = [];
  let socket: string | null = null;
  let tcp: string | null = null;
  const hints: { fields: Record<string, string>; message: string }[] = [];
  try {
    if (main.apiSocket !== null) {
      const choice = prepareSocketFolder(main.apiSocket);
      if (choice.fallbackFrom)
        log.warn(
          { code: 'MOM_W_API_SOCKET_FALLBACK', socket: choice.path, why: choice.fallbackFrom.why },
          `cannot use ${choice.fallbackFrom.path} (${choice.fallbackFrom.why}); the API socket is ${choice.path}`,
        );
      const api = createApiServer({ model, commands, log, stream, ...page });
      servers.push(api);
      await api.app.ready();
      await listenUnix(api.server, choice.path);
      socket = choice.path;
      const found = socketCandidates().includes(socket);
      hints.push({
        fields: { api_socket: socket },
        message: `API on ${socket}: try \`momctl ${found ? '' : `--socket ${socket} `}status\``,
      });
    }
    if (main.apiListen !== null) {
      const token = readToken(main.apiTokenFile);
      const tls =
        main.apiTlsCert !== null && main.apiTlsKey !== null
          ? { cert: readFile(main.apiTlsCert, 'api-tls-cert'), key: readFile(main.apiTlsKey, 'api-tls-key') }
          : undefined;
      const api = createApiServer({ model, commands, log, stream, token, ...(tls ? { tls } : {}), ...page });
      servers.push(api);
      await api.app.ready();
      const port = await listenTcp(api.server, main.apiListen.host, main.apiListen.port);
      const host = main.apiListen.host.includes(':') ? `[${main.apiListen.host}]` : main.apiListen.host;
      tcp = `${tls ? 'https' : 'http'}://${host}:${port}`;
      hints.push({
        fields: { api_url: tcp },
        message: `API on ${tcp} (bearer token from ${main.apiTokenFile}): try \`momctl --url ${tcp} --token-file ${main.apiTokenFile} status\`; the dashboard is at ${tcp}/`,
      });
    }
    if (dashboard?.listen !== undefined) {
      const { host, port } = dashboard.listen;
      const token = randomBytes(18).toString('base64url');
      const api = createApiServer({ model, commands, log, stream, token, ...page });
      servers.push(api);
      await api.app.ready();
      const bound = await listenTcp(api.server, host, port);
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/#token=${token}`;
      hints.push({ fields: { dashboard: url }, message: `dashboard: open ${url}` });
    }
    if (dashboard !== undefined && !dashboard.assets.ok)
      log.warn({ code: 'MOM_W_DASHBOARD' }, `the dashboard page is not served: ${dashboard.assets.why}`);
  } catch (err) {
    stream.close();
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  return {
    socket,
    tcp,
    hints,
    async close() {
      stream.close();
      await Promise.all(servers.map(closeServer));
      if (socket !== null) rmSync(socket, { force: true });
    },
  };
}

function readFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new MomError(
      'MOM_E_API',
      `${key} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

/** The token: the file's first line, trimmed; an empty one is refused. */
function readToken(path: string | null): string {
  if (path === null) throw new MomError('MOM_E_API', 'api-listen needs api-token-file');
  const token = (readFile(path, 'api-token-file').toString('utf8').split('\n')[0] ?? '').trim();
  if (token === '') throw new MomError('MOM_E_API', `api-token-file ${path}: the first line is empty`);
  return token;
}
