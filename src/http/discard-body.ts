// A request body the server refuses (too large) must still be read to its end: a client that is
// still sending when the answer comes and the connection closes can lose the answer to a broken
// pipe. Both HTTP listeners (the control API and MOM's XML-RPC) read the rest and throw it away,
// so memory does not grow, and give up on a client that keeps sending past a cut-off.
import type { IncomingMessage } from 'node:http';

/** Reads and drops the rest of `req`'s body; 'ended' when it ended or closed, 'timeout' after `cutOffMs`. */
export function discardBody(req: IncomingMessage, cutOffMs: number): Promise<'ended' | 'timeout'> {
  if (req.readableEnded || req.destroyed) return Promise.resolve('ended');
  return new Promise((resolve) => {
    const cutOff = setTimeout(() => resolve('timeout'), cutOffMs);
    cutOff.unref();
    const ended = (): void => {
      clearTimeout(cutOff);
      resolve('ended');
    };
    req.on('data', () => {});
    req.once('end', ended);
    req.once('error', ended);
    req.once('close', ended);
    req.resume();
  });
}
