import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createRpcServer } from './server.js';
import { FAULT, XmlRpcFault, type XmlRpcValue } from './value.js';
import type { MethodSpec } from './methods.js';

const methods = new Map<string, MethodSpec>([
  ['ping', { signature: ['boolean'], help: '', call: () => true }],
  ['big', { signature: ['struct'], help: '', call: (): XmlRpcValue => ({ mem: 2 ** 35 }) }],
  [
    'boom',
    {
      signature: ['boolean'],
      help: '',
      call: () => {
        throw new XmlRpcFault(FAULT.failed, 'policy rejected');
      },
    },
  ],
]);
const server = createRpcServer({ methods, log: pino({ level: 'silent' }), bodyLimit: 1000 });
let port = 0;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function post(body: string, method = 'POST', path = '/RPC2'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'text/xml' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const callXml = (m: string) =>
  `<?xml version="1.0"?><methodCall><methodName>${m}</methodName><params></params></methodCall>`;

test('a call is answered with its value; large integers as <i8>', async () => {
  assert.match((await post(callXml('ping'))).body, /<boolean>1<\/boolean>/);
  assert.match((await post(callXml('big'), 'POST', '/')).body, /<i8>34359738368<\/i8>/);
});

test("a method's fault and an unknown method are faults, with HTTP 200", async () => {
  const r = await post(callXml('boom'));
  assert.equal(r.status, 200);
  assert.match(r.body, /<fault>.*<int>1<\/int>.*policy rejected/s);
  assert.match((await post(callXml('nope'))).body, /-32601.*method "nope" is not supported/s);
});

test('malformed XML is a fault naming what is wrong', async () => {
  const r = await post('<methodCall><methodName>ping</methodCall>');
  assert.equal(r.status, 200);
  assert.match(r.body, /-32700.*malformed XML at line 1/s);
});

test('an oversized body is 413; GET is 405; another path is 404', async () => {
  assert.equal((await post('x'.repeat(5000))).status, 413);
  assert.equal((await post('', 'GET')).status, 405);
  assert.equal((await post(callXml('ping'), 'POST', '/other')).status, 404);
});
