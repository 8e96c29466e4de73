import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
// The controller on the Linux host port over fixture trees of /proc and cgroupfs: what momd does
// on a real host, with files standing in for the kernel.
import { controlContext, FakeHost } from '../../test/support/fakes.js';
import { fixtureCopy } from '../../test/support/linux-fixtures.js';
import { buildEntities } from '../entities/snapshot.js';
import { explainV1LimitError } from '../hypervisors/linux/cgroup.js';
import { createLinuxHost } from '../hypervisors/linux/index.js';
import type { Value } from '../policy/values.js';
import { createCgroupLimitController } from './cgroup-limit.js';
import type { Outcome } from './controller.js';

type GuestSpec = { pid?: number | null; limit?: Value };

async function reconcile(
  roots: { procRoot: string; cgroupRoot: string },
  guests: Record<string, GuestSpec>,
): Promise<Outcome[]> {
  const entities = buildEntities({
    host: { properties: {}, stats: [{}] },
    guests: Object.entries(guests).map(([name, g]) => ({
      properties: { name, ...(g.pid === undefined ? {} : { pid: g.pid }) },
      stats: [{}],
    })),
  });
  for (const g of entities.guests) {
    const spec = guests[String(g.properties['name'])];
    if (spec !== undefined && 'limit' in spec) g.controls.set('mem_limit', spec.limit ?? null);
  }
  const host = createLinuxHost({
    procRoot: roots.procRoot,
    cgroupRoot: roots.cgroupRoot,
    sysRoot: '/nonexistent',
  });
  return createCgroupLimitController().reconcile(
    controlContext({
      entities,
      host,
      guests: Object.entries(guests).map(([name, g]) => ({
        id: `id-${name}`,
        name,
        uuid: `uuid-${name}`,
        pid: g.pid ?? null,
      })),
    }),
  );
}

const brief = (os: Outcome[]): unknown[] => os.map((o) => [o.entity, o.outcome, o.old, o.new]);

test('v1: applies mem_limit (KiB) to the QEMU process cgroup, once; nil removes the limit', async () => {
  const copy = await fixtureCopy('host-cgroup-v1');
  const file = join(copy.cgroupRoot, 'memory', 'momtest', 'memory.limit_in_bytes');
  try {
    assert.deepEqual(brief(await reconcile(copy, { vm01: { pid: 26405, limit: 262144n } })), [
      ['vm01', 'applied', 524288, 262144],
    ]);
    assert.equal(await readFile(file, 'utf8'), '268435456');
    assert.deepEqual(brief(await reconcile(copy, { vm01: { pid: 26405, limit: 262144.9 } })), [
      ['vm01', 'unchanged', 262144, 262144],
    ]);
    // The kernel keeps whole pages: a limit it rounded down is the one asked for.
    await writeFile(file, '268431360\n');
    assert.equal((await reconcile(copy, { vm01: { pid: 26405, limit: 262144n } }))[0]?.outcome, 'unchanged');
    assert.deepEqual(brief(await reconcile(copy, { vm01: { pid: 26405, limit: null } })), [
      ['vm01', 'applied', 262140, null],
    ]);
    assert.equal(await readFile(file, 'utf8'), '-1');
    assert.deepEqual(brief(await reconcile(copy, { vm01: { pid: 26405, limit: null } })), [
      ['vm01', 'unchanged', null, null],
    ]);
  } finally {
    await copy.remove();
  }
});

test('v2: memory.high and memory.max move together', async () => {
  const copy = await fixtureCopy('host-cgroup-v2');
  const dir = join(copy.cgroupRoot, 'machine.slice', 'machine-qemu\\x2d1\\x2dvm01.scope');
  try {
    assert.equal((await reconcile(copy, { vm01: { pid: 7001, limit: 1048576n } }))[0]?.outcome, 'unchanged');
    await writeFile(join(dir, 'memory.high'), 'max\n');
    assert.equal((await reconcile(copy, { vm01: { pid: 7001, limit: 1048576n } }))[0]?.outcome, 'applied');
    assert.equal(await readFile(join(dir, 'memory.high'), 'utf8'), '1073741824');
    await reconcile(copy, { vm01: { pid: 7001, limit: null } });
    assert.deepEqual(
      [await readFile(join(dir, 'memory.high'), 'utf8'), await readFile(join(dir, 'memory.max'), 'utf8')],
      ['max', 'max'],
    );
  } finally {
    await copy.remove();
  }
});

test('guests without a pid, gone, in the root cgroup or sharing one cgroup are skipped, naming why', async () => {
  const copy = await fixtureCopy('host-cgroup-v1');
  try {
    const out = await reconcile(copy, {
      nopid: { limit: 1000n },
      gone: { pid: 999999, limit: 1000n },
      root: { pid: 26406, limit: 1000n },
      nocontrol: { pid: 26405 },
    });
    assert.deepEqual(
      out.map((o) => [o.entity, o.outcome, o.reason]),
      [
        ['nopid', 'skipped', 'the guest has no QEMU pid (backend does not report it)'],
        ['gone', 'skipped', 'guest gone'],
        ['root', 'skipped', 'process 26406 is in the root memory cgroup'],
      ],
    );
    // Two guests' QEMUs in one cgroup: a limit there is not a per-guest limit.
    await mkdir(join(copy.procRoot, '26407'));
    await writeFile(join(copy.procRoot, '26407', 'cgroup'), '4:memory:/momtest\n0::/\n');
    const shared = await reconcile(copy, {
      a: { pid: 26405, limit: 1000n },
      b: { pid: 26407, limit: 2000n },
    });
    assert.deepEqual(
      shared.map((o) => [o.entity, o.outcome]),
      [
        ['a', 'skipped'],
        ['b', 'skipped'],
      ],
    );
    assert.match(shared[0]?.reason ?? '', /momtest is shared by guests a, b/);
    // Also when only one of them has a mem_limit: the other would be limited with it.
    const one = await reconcile(copy, { a: { pid: 26405, limit: 1000n }, b: { pid: 26407 } });
    assert.deepEqual(
      one.map((o) => [o.entity, o.outcome]),
      [['a', 'skipped']],
    );
  } finally {
    await copy.remove();
  }
});

test("a guest in momd's own cgroup is skipped; bad values and unreadable limits fail", async () => {
  const copy = await fixtureCopy('host-cgroup-v2');
  try {
    await writeFile(
      join(copy.procRoot, 'self', 'cgroup'),
      '0::/machine.slice/machine-qemu\\x2d1\\x2dvm01.scope\n',
    );
    const own = await reconcile(copy, { vm01: { pid: 7001, limit: 1000n } });
    assert.match(own[0]?.reason ?? '', /shares momd's own memory cgroup/);
    await rm(join(copy.procRoot, 'self'), { recursive: true });

    const bad = await reconcile(copy, { a: { pid: 7001, limit: 'lots' }, b: { pid: 7001, limit: 0n } });
    assert.deepEqual(
      bad.map((o) => [o.outcome, o.reason]),
      [
        ['failed', 'mem_limit: expected a number, got a string'],
        ['failed', 'mem_limit: 0 is out of range: expected KiB > 0, or nil'],
      ],
    );

    const dir = join(copy.cgroupRoot, 'machine.slice', 'machine-qemu\\x2d1\\x2dvm01.scope');
    await rm(join(dir, 'memory.high'));
    await mkdir(join(dir, 'memory.high'));
    await writeFile(join(dir, 'memory.max'), 'max\n');
    const unreadable = await reconcile(copy, { vm01: { pid: 7001, limit: 1000n } });
    assert.equal(unreadable[0]?.outcome, 'failed');
    assert.match(unreadable[0]?.reason ?? '', /memory\.high: cannot read: EISDIR/);
  } finally {
    await copy.remove();
  }
});

test('a write the kernel refuses is a failed outcome naming the file, the value and the errno', async () => {
  const copy = await fixtureCopy('host-cgroup-v1');
  const file = join(copy.cgroupRoot, 'memory', 'momtest', 'memory.limit_in_bytes');
  try {
    // A limit file the kernel lets everyone read but no one (not even root) write: a read-only
    // sysctl holding one integer. Opening it for writing fails with EACCES; nothing is written.
    await rm(file);
    await symlink('/proc/sys/kernel/ngroups_max', file);
    const out = await reconcile(copy, { vm01: { pid: 26405, limit: 1000n } });
    assert.equal(out[0]?.outcome, 'failed');
    assert.match(
      out[0]?.reason ?? '',
      /cannot write 1024000 to .*memory\.limit_in_bytes: permission denied.*\(EACCES\)/,
    );
  } finally {
    await copy.remove();
  }
});

test('v1 refusals are explained: EBUSY (cannot reclaim) and EINVAL (above memsw)', () => {
  assert.match(explainV1LimitError('EBUSY') ?? '', /could not reclaim.*limit is unchanged/);
  assert.match(explainV1LimitError('EINVAL') ?? '', /memsw\.limit_in_bytes/);
  assert.equal(explainV1LimitError('EIO'), undefined);
});

test('on a host without memory cgroups every mem_limit is skipped, saying why; nothing is read or written', async () => {
  const host = new FakeHost();
  host.probeResult = {
    capabilities: new Set(['ksm']),
    missing: new Map([['cgroup-limits', 'no memory controller under /sys/fs/cgroup']]),
  };
  const entities = buildEntities({
    host: { properties: {}, stats: [{}] },
    guests: [{ properties: { name: 'vm01' }, stats: [{}] }],
  });
  entities.guests[0]?.controls.set('mem_limit', 1000n);
  const out = await createCgroupLimitController().reconcile(
    controlContext({ entities, host, capabilities: { host: host.probeResult } }),
  );
  assert.deepEqual(
    out.map((o) => [o.outcome, o.reason]),
    [['skipped', 'no memory controller under /sys/fs/cgroup']],
  );
  assert.deepEqual(host.limitWrites, []);
});
