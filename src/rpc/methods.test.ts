import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandPort, SetPolicyResult } from '../api/command-port.js';
import { ReadModel } from '../api/read-model.js';
import { callMethod, momMethods } from './methods.js';
import { FAULT, XmlRpcFault, type XmlRpcValue } from './value.js';

const calls: string[] = [];
const reject: SetPolicyResult = { ok: false, errors: ['02-x.policy:1:2: error: Unexpected character'] };
const accept: SetPolicyResult = { ok: true, files: [], hash: 'h', warnings: [] };
const commands: CommandPort = {
  setPolicy: (files) => (calls.push(`set ${files.length}`), accept),
  setNamedPolicy: (name, text) => (calls.push(`named ${name}`), text.includes('@') ? reject : accept),
  resetPolicies: () => (calls.push('reset'), accept),
  reload: () => ({ ok: true }),
  setDryRun: (on) => ({ dryRun: on }),
  setVerbosity: (level) => (calls.push(`verbosity ${level}`), { verbosity: level }),
};
const model = new ReadModel({ version: '1', pid: 1, startedAt: 0, backend: () => ({}) });
const methods = momMethods({ model, commands });
const call = (name: string, ...params: XmlRpcValue[]): XmlRpcValue => callMethod(methods, name, params);
const fault = (name: string, ...params: XmlRpcValue[]): XmlRpcFault => {
  try {
    call(name, ...params);
  } catch (err) {
    if (err instanceof XmlRpcFault) return err;
    throw err;
  }
  assert.fail(`${name} did not fault`);
};

test("MOM's methods and introspection are listed", () => {
  assert.deepEqual(call('system.listMethods'), [
    'getActiveGuests',
    'getNamedPolicies',
    'getPolicy',
    'getStatistics',
    'ping',
    'resetPolicies',
    'setNamedPolicy',
    'setPolicy',
    'setVerbosity',
    'system.listMethods',
    'system.methodHelp',
    'system.methodSignature',
  ]);
  assert.deepEqual(call('system.methodSignature', 'setNamedPolicy'), [['boolean', 'string', 'string']]);
  assert.match(String(call('system.methodHelp', 'getStatistics')), /host/);
  assert.equal(call('ping'), true);
});

test('before any cycle: no statistics, no guests, no policy', () => {
  assert.deepEqual(call('getStatistics'), { host: {}, guests: {} });
  assert.deepEqual(call('getActiveGuests'), []);
  assert.equal(call('getPolicy'), '');
  assert.deepEqual(call('getNamedPolicies'), {});
});

test('a bad name is refused before the command port; a bad policy is a fault with its messages', () => {
  calls.length = 0;
  const f = fault('setNamedPolicy', '../../etc/x', '(+ 1 1)');
  assert.equal(f.faultCode, FAULT.invalidParams);
  assert.deepEqual(calls, []);
  const bad = fault('setNamedPolicy', '02-x', '(+ 1 @)');
  assert.equal(bad.faultCode, FAULT.failed);
  assert.match(bad.faultString, /02-x\.policy:1:2: error/);
  assert.equal(call('setNamedPolicy', '02-x', ''), true);
  assert.equal(call('resetPolicies'), true);
  assert.deepEqual(calls, ['named 02-x', 'named 02-x', 'reset']);
});

test('arguments are checked: count and type', () => {
  assert.equal(fault('ping', 1).faultCode, FAULT.invalidParams);
  assert.equal(fault('setPolicy', 5).faultCode, FAULT.invalidParams);
  assert.equal(fault('nope').faultCode, FAULT.methodNotFound);
  assert.equal(fault('system.methodHelp', 'nope').faultCode, FAULT.methodNotFound);
});

test("setVerbosity takes the level names, 'warning' and MOM's numbers", () => {
  calls.length = 0;
  for (const level of ['debug', 'WARNING', '1', 4]) assert.equal(call('setVerbosity', level), true);
  assert.deepEqual(calls, ['verbosity debug', 'verbosity warn', 'verbosity critical', 'verbosity info']);
  assert.equal(fault('setVerbosity', 'chatty').faultCode, FAULT.invalidParams);
});
