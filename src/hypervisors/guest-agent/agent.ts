// The QEMU guest agent (qemu-ga), as MOM's GuestQemuAgent collector uses it: read the guest's
// /proc/meminfo and /proc/vmstat with guest-file-open, guest-file-read and guest-file-close, for a
// guest whose balloon driver gives no statistics. Two ways to reach an agent:
// - its socket (plain QEMU: `-chardev socket,path=...,server=on` behind a virtio-serial port named
//   org.qemu.guest_agent.0): one JSON command per line, after a guest-sync-delimited handshake that
//   skips whatever a previous client left unread (the reply to it follows a 0xFF byte);
// - libvirt, which holds that socket itself: `virsh qemu-agent-command DOMAIN JSON`.
// Protocol: https://qemu-project.gitlab.io/qemu/interop/qemu-ga-ref.html
import { randomInt } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { z } from 'zod';
import type { GuestReading } from '../../fields/catalogue.js';
import { HypervisorError } from '../hypervisor.js';
import type { VirshRunner } from '../libvirt/virsh.js';
import { CollectionError } from '../linux/read.js';
import { memoryFromProc } from './memory.js';

/** A way to send commands to one guest's agent. */
export interface AgentChannel {
  /** Runs one command; resolves with its `return` value. Throws HypervisorError. */
  execute(command: string, args?: Readonly<Record<string, unknown>>): Promise<unknown>;
  close(): void;
}

/** A guest's file larger than this is refused (meminfo and vmstat are a few KiB). */
export const MAX_FILE_BYTES = 1024 * 1024;
const READ_CHUNK = 65536;

const ErrorReply = z.object({ error: z.object({ desc: z.string() }).loose() }).loose();
const Reply = z.object({ return: z.unknown() }).loose();
const FileRead = z
  .object({ count: z.number().int().min(0), 'buf-b64': z.string(), eof: z.boolean() })
  .loose();
const FileHandle = z.number().int();

/** What an agent reply means: its return value, or a HypervisorError naming the command. */
function replyValue(what: string, command: string, raw: unknown): unknown {
  const error = ErrorReply.safeParse(raw);
  if (error.success) {
    throw new HypervisorError(
      'MOM_E_TRANSPORT',
      `${what}: ${command}: the agent says: ${error.data.error.desc}`,
    );
  }
  const reply = Reply.safeParse(raw);
  if (!reply.success || !Object.hasOwn(reply.data, 'return'))
    throw new HypervisorError('MOM_E_TRANSPORT', `${what}: ${command}: not an agent reply`);
  return reply.data.return;
}

export interface SocketChannelOptions {
  /** Milliseconds for the connection and handshake, and for each reply. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Connects to an agent's socket and synchronises with it. Throws HypervisorError. */
export async function openSocketChannel(path: string, opts: SocketChannelOptions): Promise<AgentChannel> {
  const channel = new SocketChannel(path, opts);
  try {
    await channel.connect();
    await channel.sync();
  } catch (err) {
    channel.close();
    throw err;
  }
  return channel;
}

class SocketChannel implements AgentChannel {
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: HypervisorError | undefined;
  private readonly what: string;

  constructor(
    private readonly path: string,
    private readonly opts: SocketChannelOptions,
  ) {
    this.what = `guest agent at ${path}`;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: this.path });
      this.socket = socket;
      const timer = setTimeout(
        () =>
          reject(
            new HypervisorError('MOM_E_TIMEOUT', `${this.what}: no connection in ${this.opts.timeoutMs} ms`),
          ),
        this.opts.timeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        this.wake();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const e = new HypervisorError('MOM_E_TRANSPORT', `${this.what}: ${err.code ?? err.message}`);
        this.failure ??= e;
        this.wake();
        reject(e);
      });
      socket.on('close', () => {
        this.failure ??= new HypervisorError('MOM_E_TRANSPORT', `${this.what}: the connection closed`);
        this.wake();
      });
    });
  }

  /** guest-sync-delimited: everything before the 0xFF that precedes our id's reply is stale. */
  async sync(): Promise<void> {
    const id = randomInt(1, 2 ** 31);
    this.send({ execute: 'guest-sync-delimited', arguments: { id } });
    for (;;) {
      const ff = await this.until(() => {
        const i = this.buffer.indexOf(0xff);
        return i < 0 ? undefined : i;
      }, 'guest-sync-delimited');
      this.buffer = this.buffer.subarray(ff + 1);
      const reply = await this.nextReply('guest-sync-delimited');
      if (replyValue(this.what, 'guest-sync-delimited', reply) === id) return;
    }
  }

  async execute(command: string, args?: Readonly<Record<string, unknown>>): Promise<unknown> {
    this.send(args === undefined ? { execute: command } : { execute: command, arguments: args });
    return replyValue(this.what, command, await this.nextReply(command));
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private send(message: object): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket?.write(`${JSON.stringify(message)}\n`);
  }

  /** The next line of the stream as JSON. */
  private async nextReply(command: string): Promise<unknown> {
    const nl = await this.until(() => {
      const i = this.buffer.indexOf(0x0a);
      return i < 0 ? undefined : i;
    }, command);
    const line = this.buffer.subarray(0, nl).toString('utf8');
    this.buffer = this.buffer.subarray(nl + 1);
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new HypervisorError('MOM_E_TRANSPORT', `${this.what}: ${command}: a reply that is not JSON`);
    }
  }

  /** Waits until `found` gives a value, the connection fails, the timeout passes or the signal aborts. */
  private until<T>(found: () => T | undefined, command: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const { signal } = this.opts;
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const check = (): void => {
        const v = found();
        if (v !== undefined) {
          finish();
          resolve(v);
        } else if (this.failure !== undefined) {
          finish();
          reject(this.failure);
        } else if (this.buffer.length > MAX_FILE_BYTES * 2) {
          finish();
          reject(
            new HypervisorError(
              'MOM_E_TRANSPORT',
              `${this.what}: ${command}: a reply over ${MAX_FILE_BYTES * 2} bytes`,
            ),
          );
        }
      };
      const onAbort = (): void => {
        finish();
        reject(
          signal?.reason instanceof Error
            ? signal.reason
            : new HypervisorError('MOM_E_TIMEOUT', `${this.what}: aborted`),
        );
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new HypervisorError(
            'MOM_E_TIMEOUT',
            `${this.what}: no reply to ${command} in ${this.opts.timeoutMs} ms`,
          ),
        );
      }, this.opts.timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = check;
      check();
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}

/** libvirt's way: each command is one `virsh qemu-agent-command`; libvirt holds the socket. */
export function virshChannel(
  run: VirshRunner,
  domain: string,
  timeoutS: number,
  signal?: AbortSignal,
): AgentChannel {
  const what = `guest agent of ${domain}`;
  return {
    async execute(command, args) {
      const message = JSON.stringify(
        args === undefined ? { execute: command } : { execute: command, arguments: args },
      );
      const out = await run(['qemu-agent-command', domain, '--timeout', String(timeoutS), message], signal);
      let raw: unknown;
      try {
        raw = JSON.parse(out);
      } catch {
        throw new HypervisorError(
          'MOM_E_TRANSPORT',
          `${what}: ${command}: virsh printed something that is not JSON`,
        );
      }
      return replyValue(what, command, raw);
    },
    close() {},
  };
}

/** Reads a whole file of the guest (at most MAX_FILE_BYTES); the handle is closed whatever happens. */
export async function readGuestFile(channel: AgentChannel, path: string): Promise<string> {
  const handle = FileHandle.safeParse(await channel.execute('guest-file-open', { path, mode: 'r' }));
  if (!handle.success)
    throw new HypervisorError('MOM_E_TRANSPORT', `guest-file-open ${path}: no handle in the reply`);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const r = FileRead.safeParse(
        await channel.execute('guest-file-read', { handle: handle.data, count: READ_CHUNK }),
      );
      if (!r.success)
        throw new HypervisorError('MOM_E_TRANSPORT', `guest-file-read ${path}: an unexpected reply`);
      const bytes = Buffer.from(r.data['buf-b64'], 'base64');
      total += bytes.length;
      if (total > MAX_FILE_BYTES)
        throw new HypervisorError('MOM_E_TRANSPORT', `guest-file-read ${path}: over ${MAX_FILE_BYTES} bytes`);
      chunks.push(bytes);
      if (r.data.eof || r.data.count === 0) break;
    }
  } finally {
    await channel.execute('guest-file-close', { handle: handle.data }).catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The guest's GuestMemory fields through its agent. Throws HypervisorError; files the agent read
 * but that do not parse are MOM_E_TRANSPORT too, naming the file and line (a guest's /proc is
 * something the backend received, as any other reply).
 */
export async function readAgentMemory(channel: AgentChannel, label: string): Promise<GuestReading> {
  const meminfo = await readGuestFile(channel, '/proc/meminfo');
  const vmstat = await readGuestFile(channel, '/proc/vmstat');
  try {
    return memoryFromProc(meminfo, vmstat, label);
  } catch (err) {
    if (err instanceof CollectionError) throw new HypervisorError('MOM_E_TRANSPORT', err.message);
    throw err;
  }
}

/** MOM's defaults for GuestQemuAgent's socket (its [Collector: GuestQemuAgent] section). */
export const MOM_AGENT_SOCKET = {
  socketPath: '/var/lib/libvirt/qemu',
  socketNameTemplate: '%(name)s.agent',
} as const;

/**
 * An agent socket's path from MOM's settings: `socket_path` joined with `socket_name_template`,
 * in which `%(name)s` is the guest's name (and `%(uuid)s` its uuid: momd's addition).
 */
export function agentSocketPath(
  settings: { readonly socketPath: string; readonly socketNameTemplate: string },
  guest: { readonly name: string; readonly uuid: string },
): string {
  const file = settings.socketNameTemplate
    .replaceAll('%(name)s', guest.name)
    .replaceAll('%(uuid)s', guest.uuid);
  return `${settings.socketPath.replace(/\/+$/, '')}/${file}`;
}
