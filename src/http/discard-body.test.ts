import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { discardBody } from './discard-body.js';

/** A server whose handler hands each request to `onRequest` and answers 413 when it settles. */
async function serve(
  onRequest: (req: IncomingMessage) => Promise<string>,
): Promise<{ port: number; close(): void }> {
  const server = createServer((req, res) => {
    void onRequest(req).then((how) => {
      res.writeHead(413, { connection: 'close' });
      res.end(how);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

test('a body sent to its end is read and dropped: ended, and the client reads the answer', async () => {
  const s = await serve((req) => discardBody(req, 5_000));
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ port: s.port, method: 'PUT', host: '127.0.0.1' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
      for (let i = 0; i < 64; i++) req.write(Buffer.alloc(64 * 1024));
      req.end();
    });
    assert.equal(answer, '413 ended');
  } finally {
    s.close();
  }
});

test('a client that keeps the body open past the cut-off: timeout', async () => {
  const s = await serve((req) => discardBody(req, 200));
  const req = request({ port: s.port, method: 'PUT', host: '127.0.0.1' });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('never ends');
    });
    assert.equal(answer, 'timeout');
  } finally {
    req.destroy();
    s.close();
  }
});
