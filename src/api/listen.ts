// Puts the API servers on their addresses: the unix socket (its folder made when missing, the
// socket created 0600 with no moment when it is wider, a stale socket left by a crash replaced,
// a live one refused) and the optional TCP listener.
import { connect } from 'node:net';
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { MomError } from '../errors.js';
import { DEFAULT_API_SOCKET, fallbackSockets } from './socket-path.js';

export interface SocketChoice {
  readonly path: string;
  /** Set when the default could not be used and a per-user folder was taken instead. */
  readonly fallbackFrom?: { readonly path: string; readonly why: string };
}

/**
 * Makes the socket's folder. For the default path, a folder that cannot be made or written falls
 * back to the per-user places; a configured path that cannot be used is an error (MOM_E_API).
 */
export function prepareSocketFolder(configured: string, env: NodeJS.ProcessEnv = process.env): SocketChoice {
  const tried: string[] = [];
  const candidates = configured === DEFAULT_API_SOCKET ? [configured, ...fallbackSockets(env)] : [configured];
  for (const [i, path] of candidates.entries()) {
    const why = makeFolder(dirname(path), i > 0);
    if (why === null) {
      return i === 0 ? { path } : { path, fallbackFrom: { path: configured, why: tried[0] ?? '' } };
    }
    tried.push(why);
  }
  throw new MomError(
    'MOM_E_API',
    `cannot make the API socket's folder: ${tried.map((t, i) => `${candidates[i]}: ${t}`).join('; ')}`,
  );
}

/** Null when the folder exists (or was made) and is writable, else why not. */
function makeFolder(dir: string, private_: boolean): string | null {
  try {
    // A per-user folder in a shared place (/tmp) is the user's alone.
    mkdirSync(dir, { recursive: true, mode: private_ ? 0o700 : 0o755 });
    const st = statSync(dir);
    if (!st.isDirectory()) return 'not a folder';
    if (private_ && process.getuid !== undefined && st.uid !== process.getuid())
      return 'owned by another user';
    accessSync(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Listens on a unix socket, created with mode 0600. Throws MOM_E_API when it cannot. */
export async function listenUnix(server: Server, path: string): Promise<void> {
  await removeStaleSocket(path);
  // The socket is created by bind() inside listen(), synchronously: with this umask it is born
  // 0600, and the umask is restored before anything else runs.
  const previous = process.umask(0o177);
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  try {
    server.listen(path);
  } finally {
    process.umask(previous);
  }
  try {
    await listening;
  } catch (err) {
    throw new MomError('MOM_E_API', `cannot listen on ${path}: ${(err as Error).message}`);
  }
  chmodSync(path, 0o600);
}

/** Listens on TCP; resolves to the port (useful with port 0). */
export async function listenTcp(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    throw new MomError('MOM_E_API', `cannot listen on ${host}:${port}: ${err.message}`);
  });
  const addr = server.address();
  return typeof addr === 'object' && addr !== null ? addr.port : port;
}

/** A socket file nobody answers on (left by a crash) is removed; a live one is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new MomError('MOM_E_API', `${path} exists and is not a socket; not replacing it`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new MomError('MOM_E_API', `another process (another momd?) already answers on ${path}`);
  unlinkSync(path);
}
