// Fuzzing of the control API's requests (issue 12): random and mutated bodies, content types and
// query strings on every route, through fastify's inject (the real server, no socket). What must
// hold: never a 5xx, every refusal is JSON with `error` and `message`, and a refused request never
// reaches the command port (the daemon keeps its state). A policy upload goes to the real policy
// loader: a text that does not parse is a 422 with positioned errors, nothing else.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import type { CommandPort, PolicyUpload } from '../../src/api/command-port.js';
import { EventStream } from '../../src/api/event-stream.js';
import { ReadModel } from '../../src/api/read-model.js';
import { createApiServer } from '../../src/api/server.js';
import { formatDiagnostic, loadPolicySet } from '../../src/policy/index.js';
import { mutatedText } from './policy-fuzz.js';

const RUNS = 2000;
let reached = 0;
const commands: CommandPort = {
  setPolicy(files: readonly PolicyUpload[]) {
    reached++;
    const loaded = loadPolicySet(files.map((f) => ({ file: f.name, text: f.text })));
    return loaded.ok
      ? { ok: true, files: files.map((f) => f.name), hash: 'h', warnings: [] }
      : { ok: false, errors: loaded.errors.map(formatDiagnostic) };
  },
  setNamedPolicy: () => ({ ok: false, errors: ['not used here'] }),
  resetPolicies: () => ({ ok: false, errors: ['not used here'] }),
  reload: () => ({ ok: false, problems: ['not used here'] }),
  setDryRun: (on) => (reached++, { dryRun: on }),
  setVerbosity: (level) => (reached++, { verbosity: level }),
};
const model = new ReadModel({ version: '1', pid: 1, startedAt: 0, backend: () => ({}) });
const stream = new EventStream(model);
const app = createApiServer({
  model,
  commands,
  log: pino({ level: 'silent' }),
  stream,
  bodyLimit: 64 * 1024,
}).app;
after(async () => {
  stream.close();
  await app.close();
});

const VALID = [
  '{"enabled": true}',
  '{"level": "debug"}',
  '{"files": [{"name": "a.policy", "text": "(Host.Control \\"ksm_run\\" 1)"}]}',
];
const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  mutatedText(VALID),
  fc.constantFrom(...VALID),
);
const request = fc.record({
  method: fc.constantFrom('PUT', 'POST', 'GET', 'DELETE'),
  url: fc.oneof(
    fc.constantFrom('/v1/policy', '/v1/dry-run', '/v1/verbosity', '/v1/reload', '/v1/status'),
    fc
      .tuple(
        fc.constantFrom('/v1/host', '/v1/decisions', '/v1/guests/', '/v1/guest/x', '/v1/'),
        fc.string({ maxLength: 30 }),
      )
      .map(([path, q]) => `${path}?${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', ''),
  payload: body,
});

test(`${RUNS} random requests: never a 5xx, refusals are JSON, refused requests change nothing`, async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const before = reached;
      const res = await app.inject({
        method: r.method as 'PUT',
        url: r.url,
        ...(r.method === 'GET' ? {} : { payload: r.payload }),
        headers: r.contentType === '' ? {} : { 'content-type': r.contentType },
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, `${res.statusCode} for ${JSON.stringify(r)}: ${res.body}`);
      if (res.statusCode >= 400) {
        const json = res.json() as { error?: unknown; message?: unknown; errors?: unknown };
        assert.equal(typeof json.error, 'string', res.body);
        assert.equal(typeof json.message, 'string', res.body);
        if (res.statusCode === 422 && r.url === '/v1/policy')
          for (const e of json.errors as string[]) assert.match(e, /^a\.policy:\d+:\d+: error: /, e);
        else if (r.url !== '/v1/reload') assert.equal(reached, before, 'a refused request reached the port');
      }
    }),
    { seed: 1205, numRuns: RUNS },
  );
  // The generator must produce accepted writes and refusals both, or it tests less than it says.
  assert.ok((statuses.get(200) ?? 0) > RUNS / 50, JSON.stringify([...statuses]));
  assert.ok((statuses.get(400) ?? 0) > RUNS / 10, JSON.stringify([...statuses]));
});
