// The control API's client, as momctl uses it: one request at a time over the unix socket or a
// URL, with the bearer token when given, and the event stream. Failures are MomErrors worded for
// the user: MOM_E_API_UNREACHABLE when no momd answers, MOM_E_API_REQUEST when it refuses.
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MomError } from '../errors.js';
import { socketCandidates } from './socket-path.js';

export interface ApiTarget {
  /** A unix socket path; when neither it nor `url` is given, the usual places are tried. */
  readonly socket?: string;
  /** http://HOST:PORT or https://HOST:PORT. */
  readonly url?: string;
  readonly token?: string;
  /** Milliseconds a request may take (default 10 s); the event stream has none. */
  readonly timeoutMs?: number;
}

/** An SSE event: its name and its parsed data. */
export interface ApiEvent {
  readonly event: string;
  readonly data: unknown;
}

export class ApiClient {
  private readonly where: { socket: string } | { url: URL };

  constructor(private readonly target: ApiTarget) {
    if (target.url !== undefined) {
      let url: URL;
      try {
        url = new URL(target.url);
      } catch {
        throw new MomError('MOM_E_API_REQUEST', `--url ${target.url}: not a URL (expected http://HOST:PORT)`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new MomError('MOM_E_API_REQUEST', `--url ${target.url}: expected http:// or https://`);
      this.where = { url };
    } else if (target.socket !== undefined) this.where = { socket: target.socket };
    else {
      const tried = socketCandidates();
      const found = tried.find((p) => existsSync(p));
      if (found === undefined)
        throw new MomError(
          'MOM_E_API_UNREACHABLE',
          `no momd API socket found (looked for ${tried.join(', ')}): is momd running? (--socket, --url or MOMD_SOCKET, MOMD_URL say where)`,
        );
      this.where = { socket: found };
    }
  }

  /** The unix socket requests go to; null over TCP. */
  get socket(): string | null {
    return 'socket' in this.where ? this.where.socket : null;
  }

  /** Where requests go, for messages. */
  describe(): string {
    return 'socket' in this.where ? this.where.socket : this.where.url.origin;
  }

  get(path: string): Promise<unknown> {
    return this.call('GET', path);
  }

  /** A request with a JSON body; resolves to the parsed answer, throws MOM_E_API_REQUEST on 4xx/5xx. */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.open(method, path, payload, this.target.timeoutMs ?? 10_000);
    const text = await readAll(res);
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new MomError(
        'MOM_E_API_REQUEST',
        `${this.describe()} answered ${res.statusCode} with something not JSON`,
      );
    }
    if ((res.statusCode ?? 500) >= 400)
      throw new MomError('MOM_E_API_REQUEST', refusal(res.statusCode, json));
    return json;
  }

  /** Follows the event stream until `signal` aborts or the daemon ends it. */
  async stream(path: string, onEvent: (e: ApiEvent) => void, signal: AbortSignal): Promise<void> {
    const res = await this.open('GET', path, undefined, 0, signal);
    if ((res.statusCode ?? 500) >= 400) {
      const text = await readAll(res);
      throw new MomError('MOM_E_API_REQUEST', refusal(res.statusCode, safeJson(text)));
    }
    let buffered = '';
    res.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const e = parseEvent(block);
          if (e !== undefined) onEvent(e);
        }
      });
      res.on('end', resolve);
      res.on('close', resolve);
      res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
    });
  }

  private open(
    method: string,
    path: string,
    payload: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (this.target.token !== undefined) headers['authorization'] = `Bearer ${this.target.token}`;
    const opts: RequestOptions = { method, headers, ...(signal ? { signal } : {}) };
    const w = this.where;
    const req =
      'socket' in w
        ? httpRequest({ ...opts, socketPath: w.socket, path })
        : (w.url.protocol === 'https:' ? httpsRequest : httpRequest)(new URL(path, w.url), opts);
    return new Promise((resolve, reject) => {
      if (timeoutMs > 0)
        req.setTimeout(timeoutMs, () =>
          req.destroy(
            new MomError(
              'MOM_E_API_UNREACHABLE',
              `${this.describe()} did not answer within ${timeoutMs / 1000} s`,
            ),
          ),
        );
      req.on('response', resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof MomError) return reject(err);
        reject(
          new MomError(
            'MOM_E_API_UNREACHABLE',
            `no momd answers on ${this.describe()} (${err.code ?? err.message}): is momd running?`,
          ),
        );
      });
      req.end(payload);
    });
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.on('error', reject);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** momd's refusal as one message: `error: message`, then any listed errors, one per line. */
function refusal(status: number | undefined, body: unknown): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    error?: unknown;
    message?: unknown;
    errors?: unknown;
  };
  const head = [b.error, b.message].filter((x) => typeof x === 'string').join(': ');
  const lines = Array.isArray(b.errors) ? b.errors.filter((x): x is string => typeof x === 'string') : [];
  return [head === '' ? `momd answered ${status ?? '?'}` : head, ...lines].join('\n');
}

function parseEvent(block: string): ApiEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return undefined;
  return { event, data: safeJson(data.join('\n')) };
}
