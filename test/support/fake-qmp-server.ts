// Test support, not used by momd: a QMP server on a unix socket that behaves like QEMU 7.2 for the
// commands the backend uses (greeting, capabilities, query-*, balloon, qom-list/set/get, stop and
// cont, events), with knobs for the awkward cases: split or merged chunks, interleaved events,
// silence, hang-ups.
import net from 'node:net';
import type { Json, JsonObject } from '../../src/hypervisors/qmp/client.js';

export interface FakeBalloon {
  /** The device's id (-device virtio-balloon-pci,id=...); null puts it in /machine/peripheral-anon. */
  id: string | null;
  type: string;
  actualBytes: number;
  pollingInterval: number;
  /** stat-* values; a bigint is written as its exact digits (use 2n ** 64n - 1n for "not available"). */
  stats: Record<string, number | bigint>;
  lastUpdate: number;
  /** false: the guest has no balloon driver; targets are taken and nothing moves. Default true. */
  driver?: boolean;
}

export interface FakeGuest {
  /** undefined: started without -name (query-name returns {}). */
  name?: string;
  uuid: string;
  status: string;
  baseBytes: number;
  pluggedBytes: number;
  /** null: no balloon device. */
  balloon: FakeBalloon | null;
  /** false: an old QEMU without query-memory-size-summary. */
  hasSizeSummary: boolean;
  /** vCPUs (query-cpus-fast); default 1. */
  vcpus?: number;
  /** Drives (query-block); default none. */
  drives?: FakeDrive[];
}

/** A drive: its name (-drive id), guest device (qdev), image (null: no medium) and throttle. */
export interface FakeDrive {
  device: string;
  qdev: string;
  file: string | null;
  throttle: { bps: number; bps_rd: number; bps_wr: number; iops: number; iops_rd: number; iops_wr: number };
}

/** A drive with a medium and no throttle. */
export const fakeDrive = (device: string, file = `/images/${device}.img`): FakeDrive => ({
  device,
  qdev: `/machine/peripheral-anon/device[3]/virtio-backend`,
  file,
  throttle: { bps: 0, bps_rd: 0, bps_wr: 0, iops: 0, iops_rd: 0, iops_wr: 0 },
});

export interface FakeBehaviour {
  /** 'split': each message in 7-byte pieces with pauses; 'merge': queued messages in one write. */
  chunking: 'whole' | 'split' | 'merge';
  /** false: accept the connection but never greet. */
  greet: boolean;
  /** Commands that are read but never answered. */
  silent: Set<string>;
  /** Send a BALLOON_CHANGE event before every reply. */
  eventBeforeReplies: boolean;
  /** With 'merge': answer the requests of one batch in reverse order. */
  reverseBatches: boolean;
}

export function fakeGuest(over: Partial<FakeGuest> = {}): FakeGuest {
  return {
    name: 'vm1',
    uuid: '6a7b1b44-0f4f-4a7c-9d2e-1c1f8d3e4b5a',
    status: 'running',
    baseBytes: 512 * 1024 * 1024,
    pluggedBytes: 0,
    balloon: {
      id: 'balloon0',
      type: 'virtio-balloon-pci',
      actualBytes: 512 * 1024 * 1024,
      pollingInterval: 0,
      stats: {},
      lastUpdate: 0,
    },
    hasSizeSummary: true,
    ...over,
  };
}

interface Received {
  command: string;
  args: JsonObject | undefined;
}

export class FakeQmpServer {
  readonly received: Received[] = [];
  /** Clients greeted so far. */
  greeted = 0;
  readonly behaviour: FakeBehaviour;
  private active: net.Socket | null = null;
  private readonly waiting: net.Socket[] = [];
  private outQueue: string[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  private constructor(
    private readonly server: net.Server,
    readonly path: string,
    readonly guest: FakeGuest,
    behaviour: Partial<FakeBehaviour>,
  ) {
    this.behaviour = {
      chunking: 'whole',
      greet: true,
      silent: new Set(),
      eventBeforeReplies: false,
      reverseBatches: false,
      ...behaviour,
    };
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(
    path: string,
    guest: FakeGuest = fakeGuest(),
    behaviour: Partial<FakeBehaviour> = {},
  ): Promise<FakeQmpServer> {
    const server = net.createServer();
    const fake = new FakeQmpServer(server, path, guest, behaviour);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return fake;
  }

  /** Commands received, in order, without the handshake. */
  commands(): string[] {
    return this.received.map((r) => r.command).filter((c) => c !== 'qmp_capabilities');
  }

  get clientConnected(): boolean {
    return this.active !== null;
  }

  /** Sends an event to the connected client. */
  emit(event: string, data: JsonObject): void {
    const now = Date.now();
    this.send({
      event,
      data,
      timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 },
    });
  }

  /** Hangs up on the connected client (QEMU exiting looks like this, plus the socket vanishing). */
  disconnect(): void {
    this.active?.destroy();
  }

  /** Stops listening (removing the socket file) and hangs up on everyone. */
  async stop(): Promise<void> {
    this.active?.destroy();
    for (const s of this.waiting) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    if (this.active !== null) {
      // QEMU serves one client: a second one waits, ungreeted, until the first leaves.
      this.waiting.push(socket);
      socket.once('close', () => this.waiting.splice(this.waiting.indexOf(socket), 1));
      return;
    }
    this.active = socket;
    this.outQueue = [];
    socket.once('close', () => {
      if (this.active !== socket) return;
      this.active = null;
      const next = this.waiting.shift();
      if (next) this.accept(next);
    });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== '') this.onRequest(JSON.parse(line) as JsonObject);
      }
    });
    if (this.behaviour.greet) {
      this.greeted++;
      this.send({
        QMP: {
          version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' },
          capabilities: ['oob'],
        },
      });
    }
  }

  private onRequest(req: JsonObject): void {
    const command = String(req['execute']);
    const args = req['arguments'];
    this.received.push({ command, args: isObject(args) ? args : undefined });
    if (this.behaviour.silent.has(command)) return;
    const reply = this.run(command, isObject(args) ? args : {});
    const id = req['id'];
    if (this.behaviour.eventBeforeReplies && this.guest.balloon) {
      this.emit('BALLOON_CHANGE', { actual: this.guest.balloon.actualBytes });
    }
    const message: Record<string, unknown> =
      'error' in reply ? { error: reply.error } : { return: reply.return };
    if (id !== undefined) message['id'] = id;
    this.send(message);
    if (
      command === 'balloon' &&
      'return' in reply &&
      this.guest.balloon?.driver !== false &&
      this.guest.balloon
    ) {
      // The guest's driver answers later; QEMU then announces the new size.
      const b = this.guest.balloon;
      setTimeout(() => this.emit('BALLOON_CHANGE', { actual: b.actualBytes }), 5);
    }
  }

  private run(
    command: string,
    args: JsonObject,
  ): { return: unknown } | { error: { class: string; desc: string } } {
    const g = this.guest;
    const b = g.balloon;
    const err = (cls: string, desc: string) => ({ error: { class: cls, desc } });
    const noBalloon = err('DeviceNotActive', 'No balloon device has been activated');
    const balloonPath =
      b === null
        ? null
        : b.id !== null
          ? `/machine/peripheral/${b.id}`
          : '/machine/peripheral-anon/device[0]';
    switch (command) {
      case 'qmp_capabilities':
        return { return: {} };
      case 'query-name':
        return { return: g.name !== undefined ? { name: g.name } : {} };
      case 'query-status':
        return { return: { status: g.status, running: g.status === 'running', singlestep: false } };
      case 'stop':
        if (g.status === 'running') g.status = 'paused';
        return { return: {} };
      case 'cont':
        if (g.status === 'paused') g.status = 'running';
        return { return: {} };
      case 'query-uuid':
        return { return: { UUID: g.uuid } };
      case 'query-memory-size-summary':
        if (!g.hasSizeSummary) return err('CommandNotFound', `The command ${command} has not been found`);
        return { return: { 'base-memory': g.baseBytes, 'plugged-memory': g.pluggedBytes } };
      case 'query-balloon':
        return b ? { return: { actual: b.actualBytes } } : noBalloon;
      case 'balloon': {
        if (!b) return noBalloon;
        const value = args['value'];
        if (typeof value !== 'number' || value <= 0)
          return err('GenericError', "Parameter 'value' expects a size");
        if (b.driver !== false) b.actualBytes = Math.min(value, g.baseBytes + g.pluggedBytes);
        return { return: {} };
      }
      case 'qom-list': {
        const p = args['path'];
        const child = (name: string, type: string) => ({ name, type: `child<${type}>` });
        const base = [{ name: 'type', type: 'string' }];
        if (p === '/machine/peripheral') {
          const list = [...base, child('net0', 'virtio-net-pci')];
          if (b?.id) list.push(child(b.id, b.type));
          return { return: list };
        }
        if (p === '/machine/peripheral-anon') {
          const list = [...base, child('device[1]', 'virtio-rng-pci')];
          if (b && b.id === null) list.unshift(child('device[0]', b.type));
          return { return: list };
        }
        return err('DeviceNotFound', `Device '${String(p)}' not found`);
      }
      case 'qom-set':
      case 'qom-get': {
        if (args['path'] !== balloonPath || !b)
          return err('DeviceNotFound', `Device '${String(args['path'])}' not found`);
        const prop = args['property'];
        if (command === 'qom-set' && prop === 'guest-stats-polling-interval') {
          b.pollingInterval = Number(args['value']);
          return { return: {} };
        }
        if (command === 'qom-get' && prop === 'guest-stats') {
          return { return: { stats: b.stats, 'last-update': b.lastUpdate } };
        }
        return err('GenericError', `Property '${b.type}.${String(prop)}' not found`);
      }
      case 'query-cpus-fast':
        return {
          return: Array.from({ length: g.vcpus ?? 1 }, (_, i) => ({
            'cpu-index': i,
            'qom-path': `/machine/unattached/device[${i}]`,
            'thread-id': 1000 + i,
            target: 'x86_64',
          })),
        };
      case 'query-block':
        return {
          return: (g.drives ?? []).map((d) => ({
            device: d.device,
            qdev: d.qdev,
            locked: false,
            removable: d.file === null,
            type: 'unknown',
            ...(d.file === null ? {} : { inserted: { file: d.file, ro: false, drv: 'raw', ...d.throttle } }),
          })),
        };
      case 'block_set_io_throttle': {
        const d = (g.drives ?? []).find(
          (x) => x.file !== null && (x.qdev === args['id'] || x.device === args['device']),
        );
        if (d === undefined)
          return err('GenericError', `Device '${String(args['id'] ?? args['device'])}' not found`);
        const t = { ...d.throttle };
        for (const k of ['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_rd', 'iops_wr'] as const) {
          const v = args[k];
          if (typeof v !== 'number') return err('GenericError', `Parameter '${k}' is missing`);
          t[k] = v;
        }
        if (t.bps > 0 && (t.bps_rd > 0 || t.bps_wr > 0))
          return err('GenericError', 'bps and bps_rd/bps_wr cannot be used at the same time');
        if (t.iops > 0 && (t.iops_rd > 0 || t.iops_wr > 0))
          return err('GenericError', 'iops and iops_rd/iops_wr cannot be used at the same time');
        d.throttle = t;
        return { return: {} };
      }
      default:
        return err('CommandNotFound', `The command ${command} has not been found`);
    }
  }

  private send(message: unknown): void {
    const text = `${toJson(message)}\r\n`;
    const socket = this.active;
    if (socket === null) return;
    switch (this.behaviour.chunking) {
      case 'whole':
        socket.write(text);
        return;
      case 'split': {
        const bytes = Buffer.from(text, 'utf8');
        this.sending = this.sending.then(async () => {
          for (let i = 0; i < bytes.length; i += 7) {
            if (socket.destroyed) return;
            socket.write(bytes.subarray(i, i + 7));
            await new Promise((r) => setTimeout(r, 1));
          }
        });
        return;
      }
      case 'merge':
        this.outQueue.push(text);
        this.flushTimer ??= setTimeout(() => {
          this.flushTimer = null;
          const batch = this.outQueue;
          this.outQueue = [];
          if (this.behaviour.reverseBatches) batch.reverse();
          if (!socket.destroyed) socket.write(batch.join(''));
        }, 15);
        return;
    }
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** JSON.stringify, except that a bigint is written as its exact digits (as QEMU writes uint64). */
function toJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `@@big${marks.length - 1}@@`;
  });
  return text.replace(/"@@big(\d+)@@"/g, (_m, i: string) => marks[Number(i)] ?? '0');
}
