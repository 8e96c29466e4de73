// A minimal QMP client for tests, independent of the daemon's backend (src/hypervisors/qmp/): one
// JSON object per line; the server greets, we send qmp_capabilities, then commands with an `id`
// each, because events (BALLOON_CHANGE...) arrive interleaved with the replies.
import { connect, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class QmpClient {
  /** Every event received so far, oldest first. */
  readonly events: QmpEvent[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly eventWaiters = new Set<(e: QmpEvent) => void>();
  private nextId = 1;
  private buffer = '';
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    /** The greeting's QMP object (version, capabilities). */
    readonly greeting: unknown,
  ) {}

  /**
   * Connects to a QMP unix socket (retrying while it does not accept yet, up to `timeoutMs`),
   * reads the greeting and negotiates capabilities. A QMP socket serves one client at a time:
   * a second client waits, unanswered, until the first disconnects.
   */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await QmpClient.tryConnect(path, Math.max(deadline - Date.now(), 1));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private static tryConnect(path: string, timeoutMs: number): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      let buffer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`QMP ${path}: no greeting within ${timeoutMs} ms (another client connected?)`));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const nl = buffer.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        let greeting: unknown;
        try {
          greeting = (JSON.parse(buffer.slice(0, nl)) as { QMP?: unknown }).QMP;
        } catch {
          socket.destroy();
          reject(new Error(`QMP ${path}: bad greeting ${buffer.slice(0, nl)}`));
          return;
        }
        const client = new QmpClient(socket, greeting);
        client.attach(buffer.slice(nl + 1));
        client.execute('qmp_capabilities').then(
          () => resolve(client),
          (err: Error) => {
            client.close();
            reject(err);
          },
        );
      };
      socket.on('data', onData);
      socket.on('error', onError);
    });
  }

  private attach(rest: string): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('QMP connection closed')));
    if (rest) this.onData(rest);
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof msg.event === 'string') {
        const event = msg as unknown as QmpEvent;
        this.events.push(event);
        for (const w of [...this.eventWaiters]) w(event);
        continue;
      }
      const id = typeof msg.id === 'string' ? msg.id : undefined;
      const p = id === undefined ? undefined : this.pending.get(id);
      if (!p || id === undefined) continue;
      this.pending.delete(id);
      if ('error' in msg) {
        const e = (msg.error ?? {}) as { class?: string; desc?: string };
        p.reject(new QmpError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'));
      } else p.resolve(msg.return);
    }
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Runs a command and resolves with its `return` value (rejects with QmpError on an error reply). */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `t${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /** Resolves with the first event named `name` (already received after `since`, or arriving). */
  waitForEvent(name: string, timeoutMs = 10_000, since = 0): Promise<QmpEvent> {
    const seen = this.events.slice(since).find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (e: QmpEvent) => {
        if (e.event !== name) return;
        clearTimeout(timer);
        this.eventWaiters.delete(waiter);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        reject(new Error(`QMP: no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.add(waiter);
    });
  }

  close(): void {
    this.fail(new Error('QMP connection closed by the client'));
    this.socket.destroy();
  }
}

/** Connects, runs one command, disconnects (freeing the socket for its next client). */
export async function qmpOnce<T = unknown>(
  path: string,
  command: string,
  args?: Record<string, unknown>,
): Promise<T> {
  const client = await QmpClient.connect(path);
  try {
    return await client.execute<T>(command, args);
  } finally {
    client.close();
  }
}
