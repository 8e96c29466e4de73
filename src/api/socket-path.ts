// Where the API's unix socket lives. The configured path (default /run/momd/api.sock) is used
// when its folder can be made and written; for the default only, a user who cannot write /run
// (a developer running `npm start`) gets a per-user folder instead, and momctl looks in the same
// places in the same order. docs/api.md, "Where the socket is".
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_API_SOCKET = '/run/momd/api.sock';

/** The per-user places, in order: $XDG_RUNTIME_DIR/momd, then <tmpdir>/momd-<uid>. */
export function fallbackSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined && xdg !== '') out.push(join(xdg, 'momd', 'api.sock'));
  out.push(join(tmpdir(), `momd-${process.getuid?.() ?? 'user'}`, 'api.sock'));
  return out;
}

/** Every socket momctl tries when told none, in order. */
export function socketCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [DEFAULT_API_SOCKET, ...fallbackSockets(env)];
}
