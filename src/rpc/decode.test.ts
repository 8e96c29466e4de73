import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMethodCall } from './decode.js';
import { encodeValue } from './encode.js';
import { FAULT, XmlRpcFault, type XmlRpcValue } from './value.js';

const call = (method: string, ...values: string[]): string =>
  `<?xml version="1.0"?>\n<methodCall>\n  <methodName>${method}</methodName>\n  <params>\n${values
    .map((v) => `    <param>${v}</param>\n`)
    .join('')}  </params>\n</methodCall>\n`;

const faultOf = (xml: string): XmlRpcFault => {
  try {
    decodeMethodCall(xml);
  } catch (err) {
    if (err instanceof XmlRpcFault) return err;
    throw err;
  }
  assert.fail('no fault');
};

test('a call with each type of value, as Python writes them', () => {
  const c = decodeMethodCall(
    call(
      'setNamedPolicy',
      '<value><string>01-a</string></value>',
      '<value>untyped &amp; plain</value>',
      '<value><int>-5</int></value>',
      '<value><i4>7</i4></value>',
      '<value><i8>9007199254740993</i8></value>',
      '<value><i8>4294967296</i8></value>',
      '<value><boolean>0</boolean></value>',
      '<value><double>-1.5e3</double></value>',
      '<value><nil/></value>',
      '<value><array><data><value><int>1</int></value>\n<value><string></string></value></data></array></value>',
      '<value><struct><member><name>k</name><value><string> sp </string></value></member></struct></value>',
      '<value><base64>aGk=</base64></value>',
    ),
  );
  assert.equal(c.method, 'setNamedPolicy');
  assert.deepEqual(c.params, [
    '01-a',
    'untyped & plain',
    -5,
    7,
    9007199254740993n,
    4294967296,
    false,
    -1500,
    null,
    [1, ''],
    { k: ' sp ' },
    Buffer.from('hi'),
  ]);
  assert.deepEqual(decodeMethodCall('<methodCall><methodName>ping</methodName></methodCall>').params, []);
});

test('what encode writes, decode reads back', () => {
  const v: XmlRpcValue = { host: { mem_free: 2 ** 40, x: 0.5, s: 'a<&>b', n: null }, guests: [true, 'x'] };
  assert.deepEqual(decodeMethodCall(call('m', encodeValue(v))).params, [v]);
});

test('malformed XML is a fault naming the line and column', () => {
  const f = faultOf('<methodCall>\n<methodName>ping</methodName>\n<params></param>\n</methodCall>');
  assert.equal(f.faultCode, FAULT.notWellFormed);
  assert.match(f.faultString, /^malformed XML at line 3, column \d+: /);
  assert.equal(faultOf('').faultCode, FAULT.notWellFormed);
  assert.equal(faultOf('not xml at all').faultCode, FAULT.notWellFormed);
});

test('malformed XML that passes the validator but not the parser is a not-well-formed fault too', () => {
  // Found by test/fuzz/xmlrpc-fuzz.test.ts: this was a plain Error, answered as an internal error.
  const f = faultOf('<?xml vers1.0"?><methodCall><methodName>ping</methodName></methodCall>');
  assert.equal(f.faultCode, FAULT.notWellFormed);
  assert.match(f.faultString, /^malformed XML: /);
});

test('a DOCTYPE (entity expansion) is refused before parsing', () => {
  const f = faultOf('<!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>');
  assert.equal(f.faultCode, FAULT.notWellFormed);
  assert.match(f.faultString, /DOCTYPE is not allowed/);
});

test('well-formed XML that is not a methodCall is a fault saying what is wrong', () => {
  assert.match(
    faultOf('<methodResponse/>').faultString,
    /root element must be <methodCall>, not <methodResponse>/,
  );
  assert.match(faultOf('<methodCall><params/></methodCall>').faultString, /<methodName> is missing/);
  assert.match(
    faultOf(call('m', '<value><int>1.5</int></value>')).faultString,
    /<int> '1.5' is not an integer/,
  );
  assert.match(
    faultOf(call('m', '<value><int>2147483648</int></value>')).faultString,
    /does not fit in 32 bits/,
  );
  assert.match(
    faultOf(call('m', '<value><i8>9223372036854775808</i8></value>')).faultString,
    /does not fit in 64 bits/,
  );
  assert.match(
    faultOf(call('m', '<value><float>1</float></value>')).faultString,
    /unknown value type <float>/,
  );
  assert.match(faultOf(call('m', '<value><boolean>yes</boolean></value>')).faultString, /must be 0 or 1/);
});
