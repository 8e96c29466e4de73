import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { HypervisorError } from '../hypervisor.js';
import { classifyVirshFailure, createVirshRunner } from './virsh.js';

// A stand-in for virsh: a shell script that behaves according to its last argument.
const dir = mkdtempSync(path.join(tmpdir(), 'momd-virsh-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fakeVirsh = path.join(dir, 'virsh');
writeFileSync(
  fakeVirsh,
  `#!/bin/sh
for last; do :; done
case "$last" in
  echo) printf '%s|' "$@"; echo "LC_ALL=$LC_ALL" ;;
  gone) echo "error: failed to get domain 'web1'" >&2; exit 1 ;;
  down) printf 'error: failed to connect to the hypervisor\\nerror: Failed to connect socket to '"'"'/run/libvirt/libvirt-sock'"'"': No such file or directory\\n' >&2; exit 1 ;;
  hang) exec sleep 30 ;;
  *) echo "error: something else" >&2; exit 1 ;;
esac
`,
);
chmodSync(fakeVirsh, 0o755);
const run = createVirshRunner({ uri: 'qemu:///system', timeoutMs: 2000, binary: fakeVirsh });

async function rejectsWith(p: Promise<unknown>, code: HypervisorError['code'], text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HypervisorError, String(err));
    assert.equal(err.code, code, err.message);
    if (text) assert.match(err.message, text);
    return true;
  });
}

test('runs virsh -c URI ARGS without a shell, in the C locale, and returns stdout', async () => {
  const out = await run(['list', "it's; rm -rf /", 'echo']);
  assert.equal(out, "-c|qemu:///system|list|it's; rm -rf /|echo|LC_ALL=C\n");
});

test('a domain that does not exist is guest-gone', async () => {
  await rejectsWith(
    run(['setmem', 'web1', '1KiB', 'gone']),
    'MOM_E_GUEST_GONE',
    /failed to get domain 'web1'/,
  );
});

test('libvirtd not reachable is transport, and says so', async () => {
  await rejectsWith(
    run(['list', 'down']),
    'MOM_E_TRANSPORT',
    /cannot reach libvirtd \(is it running\?\): failed to connect to the hypervisor; Failed to connect socket/,
  );
});

test('any other failure is transport with virsh own message', async () => {
  await rejectsWith(run(['other']), 'MOM_E_TRANSPORT', /virsh other: something else$/);
});

test('no answer in time: the process is killed and the call is a timeout', async () => {
  const quick = createVirshRunner({ uri: 'qemu:///system', timeoutMs: 200, binary: fakeVirsh });
  const started = Date.now();
  await rejectsWith(quick(['domstats', 'hang']), 'MOM_E_TIMEOUT', /no answer within 200 ms/);
  assert.ok(Date.now() - started < 5000);
});

test("an aborted call rejects with the caller's reason", async () => {
  const reason = new Error('cycle over');
  const ac = new AbortController();
  const p = run(['domstats', 'hang'], ac.signal);
  setTimeout(() => ac.abort(reason), 50);
  await assert.rejects(p, (err: unknown) => err === reason);
});

test('a missing virsh binary is transport, naming the package', async () => {
  const missing = createVirshRunner({
    uri: 'qemu:///system',
    timeoutMs: 1000,
    binary: path.join(dir, 'nope'),
  });
  await rejectsWith(missing(['list']), 'MOM_E_TRANSPORT', /libvirt-clients/);
});

// Messages as virsh 9.0 printed them on this project's test machine.
test('classifies the stderr of real virsh failures', () => {
  const cases: Array<[string, HypervisorError['code']]> = [
    ["error: failed to get domain 'nosuch'\n", 'MOM_E_GUEST_GONE'],
    [
      "error: Domain not found: no domain with matching uuid 'a4c5f448-8116-4a19-bf6f-bc005ec9168a' (momd-probe-a)\n",
      'MOM_E_GUEST_GONE',
    ],
    ['error: Requested operation is not valid: domain is not running\n', 'MOM_E_GUEST_GONE'],
    [
      'error: Requested operation is not valid: domain is not running\nerror: Unable to change balloon collection period.\n',
      'MOM_E_GUEST_GONE',
    ],
    [
      "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/tmp/nonexist': No such file or directory\n",
      'MOM_E_TRANSPORT',
    ],
    [
      'error: Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainGetStats)\n',
      'MOM_E_TIMEOUT',
    ],
    ['error: invalid argument: cannot set memory higher than max memory\n', 'MOM_E_TRANSPORT'],
    ['', 'MOM_E_TRANSPORT'],
    // Tuning values libvirt 9.0 refused on a real TCG domain (schedinfo, blkdeviotune).
    [
      "error: invalid argument: value of 'vcpu_period' is out of range [1000, 1000000]\n",
      'MOM_E_INVALID_ARGUMENT',
    ],
    [
      "error: invalid argument: value of 'vcpu_quota' is out of range [1000, 17592186044415]\n",
      'MOM_E_INVALID_ARGUMENT',
    ],
    [
      'error: Unable to change block I/O throttle\nerror: invalid argument: total and read/write of bytes_sec cannot be set at the same time\n',
      'MOM_E_INVALID_ARGUMENT',
    ],
    [
      "error: Unable to get block I/O throttle parameters\nerror: invalid argument: disk 'vdz' not found in domain\n",
      'MOM_E_INVALID_ARGUMENT',
    ],
  ];
  for (const [stderr, code] of cases) {
    const err = classifyVirshFailure('virsh setmem x 1KiB --live', stderr);
    assert.equal(err.code, code, stderr);
    assert.doesNotMatch(err.message, /error:/, 'the "error:" prefixes are dropped');
  }
  assert.equal(
    classifyVirshFailure(
      'virsh setmem x 999999999KiB --live',
      'error: invalid argument: cannot set memory higher than max memory\n',
    ).message,
    'virsh setmem x 999999999KiB --live: invalid argument: cannot set memory higher than max memory',
  );
});
