import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFault, encodeResponse, encodeValue } from './encode.js';
import { FAULT, XmlRpcFault } from './value.js';

test('integers within 32 bits are <int>; beyond, <i8>, as MOM sends them; fractions <double>', () => {
  assert.equal(encodeValue(2 ** 31 - 1), '<value><int>2147483647</int></value>');
  assert.equal(encodeValue(-(2 ** 31)), '<value><int>-2147483648</int></value>');
  assert.equal(encodeValue(2 ** 31), '<value><i8>2147483648</i8></value>');
  assert.equal(encodeValue(-(2 ** 31) - 1), '<value><i8>-2147483649</i8></value>');
  assert.equal(encodeValue(16 * 2 ** 30 * 1024), '<value><i8>17592186044416</i8></value>');
  assert.equal(encodeValue(9223372036854775807n), '<value><i8>9223372036854775807</i8></value>');
  assert.equal(encodeValue(0.25), '<value><double>0.25</double></value>');
  assert.throws(() => encodeValue(2n ** 63n), XmlRpcFault);
  assert.throws(() => encodeValue(NaN), XmlRpcFault);
});

test('strings are escaped; null is <nil/>; structs and arrays nest', () => {
  assert.equal(encodeValue('a<b&c>\r'), '<value><string>a&lt;b&amp;c&gt;&#13;</string></value>');
  assert.equal(encodeValue(null), '<value><nil/></value>');
  assert.equal(encodeValue(true), '<value><boolean>1</boolean></value>');
  assert.equal(
    encodeValue({ 'x<': [1, 'a'] }),
    '<value><struct><member><name>x&lt;</name><value><array><data><value><int>1</int></value><value><string>a</string></value></data></array></value></member></struct></value>',
  );
});

test('a response and a fault are methodResponses', () => {
  assert.match(
    encodeResponse(true),
    /<methodResponse><params><param><value><boolean>1<\/boolean><\/value><\/param><\/params><\/methodResponse>/,
  );
  const f = encodeFault(new XmlRpcFault(FAULT.methodNotFound, 'no <x>'));
  assert.match(
    f,
    /<fault><value><struct><member><name>faultCode<\/name><value><int>-32601<\/int><\/value><\/member>/,
  );
  assert.match(f, /<name>faultString<\/name><value><string>no &lt;x&gt;<\/string>/);
});
