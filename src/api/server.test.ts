// Request validation and authentication of the API's routes, through fastify's inject (no socket):
// what a malformed, oversized or unauthenticated request gets, and that a write reaches the port.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { CommandPort, PolicyUpload } from './command-port.js';
import { EventStream } from './event-stream.js';
import { ReadModel } from './read-model.js';
import { createApiServer } from './server.js';

const calls: string[] = [];
const commands: CommandPort = {
  setPolicy(files: readonly PolicyUpload[]) {
    calls.push(`policy ${files.map((f) => f.name).join(',')}`);
    return files.some((f) => f.text.includes('@'))
      ? { ok: false, errors: [`${files[0]?.name}:1:2: error: Unexpected character '@'.`] }
      : { ok: true, files: files.map((f) => f.name), hash: 'h', warnings: [] };
  },
  setNamedPolicy: () => ({ ok: false, errors: ['not used here'] }),
  resetPolicies: () => ({ ok: false, errors: ['not used here'] }),
  reload: () => ({ ok: false, problems: ['/etc/mom.conf:3: [main] x: bad'] }),
  setDryRun: (on) => (calls.push(`dry-run ${on}`), { dryRun: on }),
  setVerbosity: (level) => (calls.push(`verbosity ${level}`), { verbosity: level }),
};
const model = new ReadModel({ version: '1', pid: 1, startedAt: 0, backend: () => ({}) });
const stream = new EventStream(model);
const log = pino({ level: 'silent' });
const open = createApiServer({ model, commands, log, stream, bodyLimit: 1000 }).app;
const tokened = createApiServer({ model, commands, log, stream, token: 'tok' }).app;
after(async () => {
  stream.close();
  await open.close();
  await tokened.close();
});

const put = (url: string, payload: string) =>
  open.inject({ method: 'PUT', url, payload, headers: { 'content-type': 'application/json' } });

test('malformed JSON is a 400 that says where', async () => {
  const r = await put('/v1/dry-run', '{"enabled": tru}');
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().error, 'bad request');
  assert.match(r.json().message, /^malformed JSON body: Unexpected token '}'/);
});

test('a body that does not fit the schema is a 400 naming the field', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['/v1/dry-run', '{"enabled": "yes"}', /body\/enabled must be boolean/],
    ['/v1/dry-run', '{}', /body must have required property 'enabled'/],
    ['/v1/dry-run', '{"enabled": true, "extra": 1}', /body must NOT have additional properties/],
    ['/v1/verbosity', '{"level": "loud"}', /body\/level must be equal to one of the allowed values/],
    ['/v1/policy', '{"files": []}', /body\/files must NOT have fewer than 1 items/],
    ['/v1/policy', '{"files": [{"name": "a\\nb", "text": ""}]}', /body\/files\/0\/name must match pattern/],
    ['/v1/dry-run', '', /body must be object/],
  ];
  for (const [url, body, message] of cases) {
    const r = await put(url, body);
    assert.equal(r.statusCode, 400, `${url} ${body}`);
    assert.match(r.json().message, message, `${url} ${body}`);
  }
  assert.equal((await open.inject({ url: '/v1/decisions?limit=many' })).statusCode, 400);
  assert.equal((await open.inject({ url: '/v1/host?colour=red' })).statusCode, 400);
  assert.deepEqual(calls, []);
});

test('a body over the limit is a 413', async () => {
  const r = await put('/v1/policy', JSON.stringify({ files: [{ name: 'a', text: 'x'.repeat(2000) }] }));
  assert.equal(r.statusCode, 413);
  assert.equal(r.json().error, 'payload too large');
});

test('valid writes reach the command port; a rejected policy is a 422 with its FILE:LINE:COL lines', async () => {
  assert.deepEqual((await put('/v1/dry-run', '{"enabled": true}')).json(), { dryRun: true });
  assert.deepEqual((await put('/v1/verbosity', '{"level": "debug"}')).json(), { verbosity: 'debug' });
  const bad = await put('/v1/policy', JSON.stringify({ files: [{ name: 'x.policy', text: '(@)' }] }));
  assert.equal(bad.statusCode, 422);
  assert.deepEqual(bad.json().errors, ["x.policy:1:2: error: Unexpected character '@'."]);
  const reload = await open.inject({ method: 'POST', url: '/v1/reload' });
  assert.equal(reload.statusCode, 422);
  assert.deepEqual(reload.json().errors, ['/etc/mom.conf:3: [main] x: bad']);
  assert.deepEqual(calls, ['dry-run true', 'verbosity debug', 'policy x.policy']);
});

test('reads: status, an unknown guest and route are 404s, nothing evaluated yet has no snapshot', async () => {
  assert.equal((await open.inject({ url: '/v1/status' })).json().version, '1');
  assert.equal((await open.inject({ url: '/v1/guests/nope' })).statusCode, 404);
  assert.equal((await open.inject({ url: '/v1/snapshot' })).statusCode, 404);
  assert.equal((await open.inject({ url: '/v2/status' })).statusCode, 404);
});

test('with a token: a missing or wrong one is a 401 with no detail, before the body is read', async () => {
  for (const authorization of [undefined, 'Bearer wrong', 'Basic tok', 'tok']) {
    const r = await tokened.inject({
      method: 'PUT',
      url: '/v1/dry-run',
      payload: '{"enabled": true}',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
    assert.equal(r.statusCode, 401, String(authorization));
    assert.deepEqual(r.json(), { error: 'unauthorized' });
    assert.equal(r.headers['www-authenticate'], 'Bearer');
  }
  const ok = await tokened.inject({ url: '/v1/status', headers: { authorization: 'Bearer tok' } });
  assert.equal(ok.statusCode, 200);
  assert.equal(
    calls.filter((c) => c.startsWith('dry-run')).length,
    1,
    'no unauthenticated write reached the port',
  );
});
