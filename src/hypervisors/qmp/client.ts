// One QMP connection over a QEMU unix socket: framing, the greeting and `qmp_capabilities`
// handshake, requests matched to replies by `id`, and asynchronous events. QEMU serves ONE client
// per socket, so the backend (index.ts) keeps exactly one QmpClient per guest and reuses it.
import net from 'node:net';
import { HypervisorError, type HypervisorErrorCode } from '../hypervisor.js';

/** A JSON value as it arrives on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** An asynchronous QMP event, e.g. `BALLOON_CHANGE` with `data: { actual: <bytes> }`. */
export interface QmpEvent {
  readonly event: string;
  readonly data: JsonObject;
  /** Host wall-clock time at which QEMU emitted the event (seconds since the Unix epoch). */
  readonly timestampS: number | null;
}

/** A QMP `{"error": {"class", "desc"}}` reply, carrying the code the rest of momd understands. */
export class QmpCommandError extends HypervisorError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(codeOfQmpError(errorClass, desc), `${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** Connecting failed; `errno` tells a refused socket (a dead QEMU's stale file) from a missing one. */
export class QmpConnectError extends HypervisorError {
  constructor(
    code: HypervisorErrorCode,
    message: string,
    readonly errno: string | null,
  ) {
    super(code, message);
    this.name = 'QmpConnectError';
  }
}

/**
 * Error classes meaning "this QEMU cannot do that" rather than "the conversation failed":
 * an unknown command, no balloon device, no such QOM object, or (a GenericError) no such property.
 */
export function codeOfQmpError(errorClass: string, desc: string): HypervisorErrorCode {
  switch (errorClass) {
    case 'CommandNotFound':
    case 'DeviceNotActive':
    case 'DeviceNotFound':
    case 'KVMMissingCap':
      return 'MOM_E_UNSUPPORTED';
    case 'GenericError':
      return /\bProperty '[^']*' not found\b/.test(desc) ? 'MOM_E_UNSUPPORTED' : 'MOM_E_TRANSPORT';
    default:
      return 'MOM_E_TRANSPORT';
  }
}

export interface QmpRequestOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeout for this request (milliseconds). */
  timeoutMs?: number;
}

export interface QmpConnectOptions {
  /** Milliseconds to wait for the greeting, the handshake, and then each reply (default 5000). */
  timeoutMs?: number;
}

interface Pending {
  readonly command: string;
  resolve(value: Json): void;
  reject(err: unknown): void;
}

/** A message larger than this (16 MiB) is not QMP: the connection is dropped. */
const MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

export class QmpClient {
  /** The server's greeting (`{"QMP": {"version": ..., "capabilities": [...]}}`), once received. */
  greeting: JsonObject | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly eventListeners = new Set<(event: QmpEvent) => void>();
  private readonly closeListeners = new Set<(reason: HypervisorError) => void>();
  private readonly splitter = new JsonSplitter();
  private greeted: { resolve(): void; reject(err: unknown): void } | null = null;
  private nextId = 1;
  private closedWith: HypervisorError | null = null;
  private lastSocketError: NodeJS.ErrnoException | null = null;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8'); // a multi-byte character split across chunks is joined correctly
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.lastSocketError = err;
    });
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      const why = this.lastSocketError ? `: ${this.lastSocketError.message}` : '';
      this.shutDown(new HypervisorError('MOM_E_GUEST_GONE', `${path}: QMP connection closed${why}`));
    });
  }

  /**
   * Connects, waits for the greeting and negotiates capabilities. A missing or refused socket
   * is 'MOM_E_GUEST_GONE' (QmpConnectError with the errno); no greeting in time is 'MOM_E_TIMEOUT' (QEMU
   * leaves a second client waiting while another one holds the socket).
   */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = net.createConnection({ path });
    const client = new QmpClient(socket, path, timeoutMs);
    const timer = setTimeout(() => {
      client.shutDown(
        new HypervisorError(
          'MOM_E_TIMEOUT',
          `${path}: no QMP greeting within ${timeoutMs} ms (is another client connected?)`,
        ),
      );
      socket.destroy();
    }, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          const gone = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK';
          reject(
            new QmpConnectError(
              gone ? 'MOM_E_GUEST_GONE' : 'MOM_E_TRANSPORT',
              `${path}: connect: ${err.message}`,
              err.code ?? null,
            ),
          );
        };
        socket.once('error', onError);
        socket.once('connect', () => {
          socket.off('error', onError);
          resolve();
        });
        client.greeted = { resolve, reject }; // a timeout before 'connect' rejects here too
      });
      await new Promise<void>((resolve, reject) => {
        if (client.closedWith) reject(client.closedWith);
        else if (client.greeting) resolve();
        else client.greeted = { resolve, reject };
      });
      await client.execute('qmp_capabilities');
      return client;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once the connection is closed, by either side. */
  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Runs one command and resolves with its `return` value. Rejects with QmpCommandError for an
   * `error` reply, HypervisorError('MOM_E_TIMEOUT') when no reply comes in time (a late reply is then
   * ignored), 'MOM_E_GUEST_GONE' when the connection is or gets closed, or the signal's reason.
   */
  execute(command: string, args?: JsonObject, options: QmpRequestOptions = {}): Promise<Json> {
    const { signal } = options;
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = `momd-${this.nextId++}`;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<Json>((resolve, reject) => {
      const done = (): void => {
        this.pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new HypervisorError('MOM_E_TIMEOUT', `${this.path}: ${command}: no reply within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      const message: JsonObject = { execute: command, id };
      if (args !== undefined) message['arguments'] = args;
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Calls `listener` for every event; returns a function that removes it. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Calls `listener` once when the connection closes, with the reason. */
  onClose(listener: (reason: HypervisorError) => void): () => void {
    if (this.closedWith) {
      const reason = this.closedWith;
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Closes the connection; pending requests fail with 'MOM_E_GUEST_GONE'. Resolves once closed. */
  async close(): Promise<void> {
    this.shutDown(new HypervisorError('MOM_E_GUEST_GONE', `${this.path}: QMP connection closed by momd`));
    this.socket.destroy();
    await this.closedPromise;
  }

  private shutDown(reason: HypervisorError): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.greeted?.reject(reason);
    this.greeted = null;
    for (const p of [...this.pending.values()]) p.reject(reason);
    for (const listener of [...this.closeListeners]) listener(reason);
    this.closeListeners.clear();
  }

  private onData(chunk: string): void {
    let messages: string[];
    try {
      messages = this.splitter.push(chunk);
    } catch (err) {
      this.fail(`${(err as Error).message}`);
      return;
    }
    for (const text of messages) {
      let message: Json;
      try {
        message = JSON.parse(text) as Json;
      } catch {
        this.fail(`unparsable message ${JSON.stringify(text.slice(0, 200))}`);
        return;
      }
      if (message === null || typeof message !== 'object' || Array.isArray(message)) {
        this.fail(`message is not an object: ${text.slice(0, 200)}`);
        return;
      }
      this.dispatch(message);
    }
  }

  private dispatch(message: JsonObject): void {
    if ('QMP' in message) {
      this.greeting = message;
      this.greeted?.resolve();
      this.greeted = null;
      return;
    }
    const event = message['event'];
    if (typeof event === 'string') {
      const data = message['data'];
      const ts = message['timestamp'];
      const parsed: QmpEvent = {
        event,
        data: isObject(data) ? data : {},
        timestampS:
          isObject(ts) && typeof ts['seconds'] === 'number'
            ? ts['seconds'] + (typeof ts['microseconds'] === 'number' ? ts['microseconds'] / 1e6 : 0)
            : null,
      };
      for (const listener of [...this.eventListeners]) {
        try {
          listener(parsed);
        } catch {
          // A listener's bug must not break the connection for everyone else.
        }
      }
      return;
    }
    // Replies without a known id (to a request that already timed out, or QEMU's reply to
    // input it could not parse, which carries no id) are dropped.
    const id = message['id'];
    const p = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (p === undefined) return;
    if ('return' in message) {
      p.resolve(message['return'] ?? null);
      return;
    }
    const error = message['error'];
    if (isObject(error)) {
      const cls = typeof error['class'] === 'string' ? error['class'] : 'GenericError';
      const desc = typeof error['desc'] === 'string' ? error['desc'] : JSON.stringify(error);
      p.reject(new QmpCommandError(p.command, cls, desc));
      return;
    }
    p.reject(new HypervisorError('MOM_E_TRANSPORT', `${this.path}: ${p.command}: malformed reply`));
  }

  private fail(why: string): void {
    this.shutDown(new HypervisorError('MOM_E_TRANSPORT', `${this.path}: QMP protocol error: ${why}`));
    this.socket.destroy();
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Cuts a stream of characters into top-level JSON objects. QEMU ends each message with "\r\n",
 * but a monitor with `pretty=on` spreads one message over many lines, so we follow braces (outside
 * strings) instead of lines: that handles a message split across chunks, several in one chunk,
 * and either layout. Whitespace between objects is skipped.
 */
export class JsonSplitter {
  /** The pieces of the message being received, kept apart until it ends (no re-copy per chunk). */
  private parts: string[] = [];
  private pending = 0; // characters in `parts`
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Adds `chunk`; returns the complete objects it finished, in order. Throws on non-JSON. */
  push(chunk: string): string[] {
    const out: string[] = [];
    let start = 0; // where the part of `chunk` that belongs to the current message begins
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        this.inString = true;
      } else if (c === '{' || c === '[') {
        if (this.depth === 0) {
          if (c === '[') throw new Error('a message must be a JSON object');
          start = i;
        }
        this.depth++;
      } else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth < 0) throw new Error(`unbalanced '${c}'`);
        if (this.depth === 0) {
          this.parts.push(chunk.slice(start, i + 1));
          out.push(this.parts.join(''));
          this.parts = [];
          this.pending = 0;
          start = i + 1;
        }
      } else if (this.depth === 0 && c !== undefined && !/\s/.test(c)) {
        throw new Error(`unexpected ${JSON.stringify(c)} between messages`);
      }
    }
    if (this.depth > 0) {
      const rest = chunk.slice(start);
      this.parts.push(rest);
      this.pending += rest.length;
      if (this.pending > MAX_MESSAGE_CHARS) throw new Error('message larger than 16 MiB');
    }
    return out;
  }
}
