// Fuzzing of the XML-RPC decoder (issue 12): vdsm-shaped method calls with random edits, and calls
// generated from XML-RPC's value grammar with random element names mixed in. What must hold: a
// body decodes, or fails with an XmlRpcFault (which the server sends as a Fault); nothing else is
// thrown, and no body takes over a second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMethodCall } from '../../src/rpc/decode.js';
import { XmlRpcFault } from '../../src/rpc/value.js';
import { mutatedText } from './policy-fuzz.js';

const RUNS = 3000;
const CALLS = [
  '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params></params></methodCall>',
  '<methodCall><methodName>setPolicy</methodName><params><param><value><string>(Host.Control "ksm_run" 1)</string></value></param></params></methodCall>',
  '<methodCall><methodName>setNamedPolicy</methodName><params><param><value>10-balloon</value></param><param><value><string>x &amp; y</string></value></param></params></methodCall>',
  '<methodCall><methodName>getStatistics</methodName><params><param><value><struct><member><name>a</name><value><int>-7</int></value></member><member><name>b</name><value><array><data><value><double>1.5</double></value><value><boolean>1</boolean></value><value><i8>9007199254740993</i8></value><value><nil/></value></data></array></value></member></struct></value></param></params></methodCall>',
];

const { value } = fc.letrec<{ value: string }>((tie) => ({
  value: fc
    .oneof(
      { depthSize: 'small' },
      fc.constantFrom(
        '<int>1</int>',
        '<i4>x</i4>',
        '<double>1e400</double>',
        '<boolean>2</boolean>',
        '<string/>',
        'bare',
        '<nil/>',
        '<base64>!!</base64>',
        '<dateTime.iso8601>x</dateTime.iso8601>',
        '<odd/>',
      ),
      fc.array(tie('value'), { maxLength: 3 }).map((vs) => `<array><data>${vs.join('')}</data></array>`),
      fc
        .array(fc.tuple(fc.string({ maxLength: 4 }), tie('value')), { maxLength: 3 })
        .map(
          (ms) => `<struct>${ms.map(([n, v]) => `<member><name>${n}</name>${v}</member>`).join('')}</struct>`,
        ),
    )
    .map((inner) => `<value>${inner}</value>`),
}));
const generated = fc
  .tuple(fc.constantFrom('ping', 'setPolicy', '', 'a b'), fc.array(value, { maxLength: 3 }))
  .map(
    ([m, vs]) =>
      `<methodCall><methodName>${m}</methodName><params>${vs.map((v) => `<param>${v}</param>`).join('')}</params></methodCall>`,
  );

test(`${RUNS} XML-RPC bodies: decoded, or an XmlRpcFault; nothing else thrown, none over 1 s`, () => {
  let faults = 0;
  let decoded = 0;
  fc.assert(
    fc.property(fc.oneof(mutatedText(CALLS), generated, fc.string({ maxLength: 100 })), (xml) => {
      const t0 = performance.now();
      try {
        decodeMethodCall(xml);
        decoded++;
      } catch (e) {
        if (!(e instanceof XmlRpcFault)) throw e;
        faults++;
      }
      assert.ok(performance.now() - t0 < 1000);
    }),
    { seed: 1206, numRuns: RUNS },
  );
  assert.ok(decoded > RUNS / 20 && faults > RUNS / 10, `${decoded} decoded, ${faults} faults`);
});
