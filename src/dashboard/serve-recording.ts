// `momctl dashboard --recording DIR`: the dashboard's page and the API's read routes over a
// recording (recording.ts), on a loopback port behind a token made at start, read-only.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { refusingCommands } from '../api/command-port.js';
import { EventStream } from '../api/event-stream.js';
import { listenTcp } from '../api/listen.js';
import { closeApiServer, createApiServer } from '../api/server.js';
import type { ReadOptions } from '../record/reader.js';
import { loadAssets } from './assets.js';
import { openRecording } from './recording.js';

export interface ServedRecording {
  readonly url: string;
  readonly cycles: number;
  readonly from: string;
  readonly to: string;
  close(): Promise<void>;
}

const READ_ONLY = 'a recording is read-only';

export async function serveRecording(
  dir: string,
  opts: ReadOptions & { readonly version: string; readonly host: string; readonly port: number },
): Promise<ServedRecording> {
  const rec = await openRecording(dir, opts);
  const token = randomBytes(18).toString('base64url');
  const stream = new EventStream(rec.model, {}, rec.timeline);
  const api = createApiServer({
    model: rec.model,
    // Never called: the server refuses every write before it reaches the port.
    commands: refusingCommands(READ_ONLY),
    log: pino({ level: 'silent' }),
    stream,
    token,
    timeline: rec.timeline,
    assets: loadAssets(),
    readOnly: READ_ONLY,
  });
  await api.app.ready();
  const port = await listenTcp(api.server, opts.host, opts.port);
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/#token=${token}`,
    cycles: rec.cycles,
    from: rec.from,
    to: rec.to,
    async close() {
      stream.close();
      await closeApiServer(api);
    },
  };
}
