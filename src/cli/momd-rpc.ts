// The daemon's XML-RPC server (MOM's, for oVirt's vdsm), started only when rpc-port is set: on a
// unix socket (created 0600, a stale one replaced) or on a TCP port of 127.0.0.1 only, as MOM binds
// "localhost". It serves the API's read model and command port (src/rpc/methods.ts).
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CommandPort } from '../api/command-port.js';
import { listenTcp, listenUnix, prepareSocketFolder } from '../api/listen.js';
import type { ReadModel } from '../api/read-model.js';
import type { RpcEndpoint } from '../config/index.js';
import { momMethods } from '../rpc/methods.js';
import { createRpcServer } from '../rpc/server.js';

export interface RunningRpc {
  /** Where it listens: the socket path, or http://127.0.0.1:PORT. */
  readonly where: string;
  close(): Promise<void>;
}

/** Starts MOM's XML-RPC server. Throws MomError MOM_E_API when it cannot listen. */
export async function startRpc(
  endpoint: RpcEndpoint,
  model: ReadModel,
  commands: CommandPort,
  log: Logger,
): Promise<RunningRpc> {
  const server = createRpcServer({ methods: momMethods({ model, commands }), log });
  let where: string;
  if (endpoint.kind === 'unix') {
    prepareSocketFolder(endpoint.path);
    await listenUnix(server, endpoint.path);
    where = endpoint.path;
  } else {
    const port = await listenTcp(server, '127.0.0.1', endpoint.port);
    where = `http://127.0.0.1:${port}`;
  }
  return {
    where,
    async close() {
      if (server.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      if (endpoint.kind === 'unix') rmSync(endpoint.path, { force: true });
    },
  };
}
