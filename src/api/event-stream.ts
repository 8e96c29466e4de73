// The live event stream (GET /v1/events, server-sent events) of cycles, decisions, policy and
// settings changes. Each event is serialised once for all clients, after the engine's cycle has
// returned (setImmediate), and written without waiting: a client that does not read falls
// behind, and once it has more than `maxBufferedBytes` unsent it is disconnected. A slow client
// costs a bounded amount of memory and never holds up the control loop.
import type { ServerResponse } from 'node:http';
import type { Timeline } from '../dashboard/timeline.js';
import type { ReadModel } from './read-model.js';
import type { StreamEvent } from './views.js';

export interface EventStreamOptions {
  readonly maxClients?: number;
  readonly maxBufferedBytes?: number;
  /** A comment line every so often keeps proxies and idle timeouts from closing the stream. */
  readonly heartbeatMs?: number;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly queue: string[] = [];
  private flushing = false;
  private readonly unsubscribe: readonly (() => void)[];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxClients: number;
  private readonly maxBuffered: number;

  /** The read model's events, and the dashboard timeline's points when there is one. */
  constructor(model: ReadModel, opts: EventStreamOptions = {}, timeline?: Timeline) {
    this.maxClients = opts.maxClients ?? 64;
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    this.unsubscribe = [
      model.subscribe((e) => this.enqueue(e)),
      ...(timeline ? [timeline.subscribe((p) => this.enqueue({ event: 'timeline', data: p }))] : []),
    ];
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over a response as a stream; false when too many clients are connected already. */
  open(res: ServerResponse): boolean {
    if (this.clients.size >= this.maxClients) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': momd event stream\n\n');
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
    };
    res.on('close', drop);
    res.on('error', drop);
    return true;
  }

  /** Ends every stream (the daemon is stopping). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const off of this.unsubscribe) off();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private enqueue(e: StreamEvent): void {
    if (this.clients.size === 0) return;
    this.queue.push(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const chunk = this.queue.splice(0).join('');
      this.broadcast(chunk);
    });
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.maxBuffered) {
        // Too far behind: drop it rather than buffer without bound.
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }
}
