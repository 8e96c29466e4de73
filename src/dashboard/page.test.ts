// The dashboard's routes on the API server, through fastify's inject: the page is served without
// a token (it holds no data) and the timeline only with one; a page that was not built is a 503
// that says so; a bad query is a 400 naming the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { refusingCommands } from '../api/command-port.js';
import { EventStream } from '../api/event-stream.js';
import { ReadModel } from '../api/read-model.js';
import { createApiServer } from '../api/server.js';
import { EngineEvents } from '../engine/events.js';
import { loadAssets } from './assets.js';
import { Timeline } from './timeline.js';

const commands = refusingCommands('not used here');
const dir = mkdtempSync(join(tmpdir(), 'momd-page-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>momd</title>');
writeFileSync(join(dir, 'app.js'), 'void 0;');
writeFileSync(join(dir, 'app.css'), 'body{}');

const events = new EngineEvents();
const model = new ReadModel({ version: '1', pid: 1, startedAt: 0, backend: () => ({}) });
const timeline = new Timeline({ capacity: 10 });
timeline.attach(events);
const stream = new EventStream(model, {}, timeline);
const log = pino({ level: 'silent' });
const built = createApiServer({
  model,
  commands,
  log,
  stream,
  token: 'tok',
  timeline,
  assets: loadAssets(dir),
}).app;
const unbuilt = createApiServer({
  model,
  commands,
  log,
  stream,
  token: 'tok',
  timeline,
  assets: loadAssets(join(dir, 'missing')),
}).app;
after(async () => {
  stream.close();
  await built.close();
  await unbuilt.close();
});
const auth = { authorization: 'Bearer tok' };

test('the page, its script and style are served without a token, with a strict CSP', async () => {
  for (const [url, type] of [
    ['/', /text\/html/],
    ['/dashboard/app.js', /text\/javascript/],
    ['/dashboard/app.css', /text\/css/],
  ] as const) {
    const r = await built.inject({ url });
    assert.equal(r.statusCode, 200, url);
    assert.match(String(r.headers['content-type']), type);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  }
  assert.match((await built.inject({ url: '/' })).body, /<title>momd<\/title>/);
});

test('everything else still needs the token: the timeline, the stream, other paths', async () => {
  for (const url of ['/v1/timeline', '/v1/events', '/v1/guests', '/index.html', '/dashboard/other.js'])
    assert.equal((await built.inject({ url })).statusCode, 401, url);
  // A write to a page path is no read: it needs the token too.
  assert.equal((await built.inject({ method: 'POST', url: '/' })).statusCode, 401);
});

test('GET /v1/timeline: the kept points, the guests asked for, the points after a seq', async () => {
  events.emit('collection', {
    scope: 'host',
    entity: 'host',
    at: 1,
    sample: { mem_total: 100, mem_unused: 10, mem_cached: 20 },
  });
  events.emit('collection', { scope: 'guest', entity: 'a,b', at: 1, sample: { balloon_cur: 5 } });
  events.emit('collection', { scope: 'guest', entity: 'web', at: 1, sample: { balloon_cur: 9 } });
  for (const at of [1, 2])
    events.emit('cycle', { status: 'skipped', reason: 'x', at, durationMs: 0, dryRun: false } as never);
  const r = await built.inject({ url: '/v1/timeline?guests=web', headers: auth });
  assert.equal(r.statusCode, 200);
  const v = r.json();
  assert.deepEqual(v.at, [1, 2]);
  assert.equal(v.last, 1);
  assert.deepEqual(Object.keys(v.guests), ['web']);
  assert.ok(
    v.series.host.some((s: { key: string; unit: string }) => s.key === 'mem_used' && s.unit === 'KiB'),
  );
  assert.deepEqual((await built.inject({ url: '/v1/timeline?after=0', headers: auth })).json().at, [2]);
});

test('a bad timeline query is a 400 naming the field', async () => {
  for (const [q, m] of [
    ['after=x', /querystring\/after must match pattern/],
    ['after=-2', /querystring\/after must match pattern/],
    ['since=1', /querystring must NOT have additional properties/],
  ] as const) {
    const r = await built.inject({ url: `/v1/timeline?${q}`, headers: auth });
    assert.equal(r.statusCode, 400, q);
    assert.match(r.json().message, m, q);
  }
});

test('a page that was not built: 503 saying to run the build; the API still works', async () => {
  const r = await unbuilt.inject({ url: '/' });
  assert.equal(r.statusCode, 503);
  assert.match(
    r.json().message,
    /the dashboard was not built: .*index\.html: ENOENT \(run `npm run build`\)/,
  );
  assert.equal((await unbuilt.inject({ url: '/v1/status', headers: auth })).statusCode, 200);
});
