import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { MomError } from '../errors.js';
import { startMetricsServer } from './server.js';

test('serves /metrics in the text format; other paths 404, other methods 405', async () => {
  const registry = new Registry();
  new Gauge({ name: 'x_bytes', help: 'x', registers: [registry] }).set(7);
  const server = await startMetricsServer(registry, { host: '127.0.0.1', port: 0 });
  try {
    assert.ok(server.address.port > 0);
    const r = await fetch(server.url);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await r.text(), /^x_bytes 7$/m);
    assert.equal((await fetch(server.url.replace('/metrics', '/'))).status, 404);
    assert.equal((await fetch(server.url, { method: 'POST', body: 'x' })).status, 405);
  } finally {
    await server.close();
  }
});

test('a port in use is MOM_E_LISTEN naming the address', async () => {
  const registry = new Registry();
  const first = await startMetricsServer(registry, { host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(startMetricsServer(registry, first.address), (err: unknown) => {
      assert.ok(err instanceof MomError);
      assert.equal(err.code, 'MOM_E_LISTEN');
      assert.match(
        err.message,
        new RegExp(`metrics-listen 127\\.0\\.0\\.1:${first.address.port}: .*EADDRINUSE`),
      );
      return true;
    });
  } finally {
    await first.close();
  }
});
