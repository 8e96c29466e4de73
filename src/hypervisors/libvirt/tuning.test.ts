import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeDisk, FakeVirsh } from '../../../test/support/fake-virsh.js';
import { PACKAGE_ROOT } from '../../cli/paths.js';
import { tuningOf } from './domain-xml.js';
import { createLibvirtBackend } from './index.js';
import { blkdeviotuneSetArgs, cpuTuneOf, ioTuneOf, schedinfoSetArgs } from './tuning.js';
import { NO_IO_LIMITS } from '../../fields/io-tune.js';

const fixture = (name: string): string =>
  readFileSync(join(PACKAGE_ROOT, 'src', 'hypervisors', 'libvirt', 'fixtures', name), 'utf8');

const NONE = NO_IO_LIMITS;

test('schedinfo (recorded, virsh 9.0 on cgroup v1): the vCPU quota and period; no limit is -1', () => {
  assert.deepEqual(cpuTuneOf(fixture('schedinfo-unlimited.txt')), { quota: -1, period: 100000 });
  assert.deepEqual(cpuTuneOf(fixture('schedinfo-limited.txt')), { quota: 25000, period: 50000 });
  // cgroup v2 shows no limit as the largest quota libvirt knows.
  assert.deepEqual(cpuTuneOf('vcpu_period    : 100000\nvcpu_quota     : 17592186044415\n'), {
    quota: -1,
    period: 100000,
  });
  assert.deepEqual(cpuTuneOf('Scheduler      : Unknown\n'), { quota: null, period: null });
});

test('blkdeviotune (recorded): the six limits; output without them is null', () => {
  assert.deepEqual(ioTuneOf(fixture('blkdeviotune-unlimited.txt')), NONE);
  assert.deepEqual(ioTuneOf(fixture('blkdeviotune-limited.txt')), {
    ...NONE,
    total_bytes_sec: 10485760,
    total_iops_sec: 200,
  });
  assert.equal(ioTuneOf('total_bytes_sec: 0\n'), null);
});

test('the set commands: schedinfo --set per value, blkdeviotune with all six limits', () => {
  assert.deepEqual(schedinfoSetArgs('u', { quota: 25000, period: 50000 }), [
    'schedinfo',
    'u',
    '--live',
    '--set',
    'vcpu_period=50000',
    '--set',
    'vcpu_quota=25000',
  ]);
  assert.deepEqual(schedinfoSetArgs('u', { quota: -1 }), [
    'schedinfo',
    'u',
    '--live',
    '--set',
    'vcpu_quota=-1',
  ]);
  assert.deepEqual(blkdeviotuneSetArgs('u', 'vda', { ...NONE, read_iops_sec: 7 }), [
    'blkdeviotune',
    'u',
    'vda',
    '--live',
    '--total-bytes-sec',
    '0',
    '--read-bytes-sec',
    '0',
    '--write-bytes-sec',
    '0',
    '--total-iops-sec',
    '0',
    '--read-iops-sec',
    '7',
    '--write-iops-sec',
    '0',
  ]);
});

test("the domain's XML (recorded, with oVirt's tune metadata set by virsh metadata): vCPUs, disks, vcpuLimit, ioTune", () => {
  const t = tuningOf(fixture('dumpxml-tuned.xml'));
  assert.equal(t.vcpuCount, 2);
  assert.equal(t.vcpuLimit, 50);
  assert.deepEqual(t.disks, [{ name: 'vda', path: '/var/tmp/momd-tuning/tuned.swap.img' }]);
  assert.deepEqual(t.ioPolicy, [
    {
      name: 'vda',
      path: '/var/tmp/momd-tuning/tuned.swap.img',
      guaranteed: { total_bytes_sec: 1048576, total_iops_sec: 50 },
      maximum: { total_bytes_sec: 10485760, total_iops_sec: 200 },
    },
  ]);
});

test("oVirt's metadata as vdsm writes it (prefixed or not, declared on the domain or the element); none: 100", () => {
  const xml = (metadata: string, rootNs = ''): string =>
    `<domain type='kvm'${rootNs}><name>x</name><vcpu placement='static' current='3'>8</vcpu>` +
    `<metadata>${metadata}</metadata><devices>` +
    `<disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hdc'/></disk>` +
    `<disk type='block' device='disk'><source dev='/dev/vg/lv1'/><target dev='sda'/></disk>` +
    `<disk type='network' device='disk'><source name='pool/img'/><target dev='vdb'/></disk>` +
    `</devices></domain>`;
  const onElement = tuningOf(
    xml(
      `<ovirt-tune:qos xmlns:ovirt-tune="http://ovirt.org/vm/tune/1.0"><ovirt-tune:vcpuLimit>20</ovirt-tune:vcpuLimit>` +
        `<ovirt-tune:ioTune><ovirt-tune:device name="sda" path="/dev/vg/lv1"><ovirt-tune:maximum>` +
        `<ovirt-tune:read_bytes_sec>3000</ovirt-tune:read_bytes_sec></ovirt-tune:maximum></ovirt-tune:device>` +
        `</ovirt-tune:ioTune></ovirt-tune:qos>`,
    ),
  );
  assert.equal(onElement.vcpuCount, 3, "<vcpu current='3'>: the vCPUs running now");
  assert.equal(onElement.vcpuLimit, 20);
  assert.deepEqual(
    onElement.disks.map((d) => [d.name, d.path]),
    [
      ['sda', '/dev/vg/lv1'],
      ['vdb', 'pool/img'],
    ],
    'disks only, not the cdrom',
  );
  assert.deepEqual(onElement.ioPolicy, [
    { name: 'sda', path: '/dev/vg/lv1', guaranteed: {}, maximum: { read_bytes_sec: 3000 } },
  ]);
  const onRoot = tuningOf(
    xml(`<ovirt:qos><vcpuLimit>75</vcpuLimit></ovirt:qos>`, ` xmlns:ovirt="http://ovirt.org/vm/tune/1.0"`),
  );
  assert.equal(onRoot.vcpuLimit, 75);
  const otherNs = tuningOf(xml(`<x:qos xmlns:x="http://example.com/"><x:vcpuLimit>5</x:vcpuLimit></x:qos>`));
  assert.equal(otherNs.vcpuLimit, 100, 'another namespace is not oVirt');
  assert.deepEqual(tuningOf('<not xml'), { vcpuCount: null, vcpuLimit: 100, disks: [], ioPolicy: [] });
});

test('guestTuning: dumpxml, schedinfo and one blkdeviotune per disk; bounds from the metadata, by path or name', async () => {
  const virsh = new FakeVirsh();
  virsh.add({
    uuid: '11111111-1111-4111-8111-111111111111',
    name: 'db',
    maxKib: 1048576,
    driver: true,
    guaranteeKib: null,
    vcpus: 4,
    quota: 30000,
    disks: [fakeDisk('vda', '/img/a'), fakeDisk('vdb', '/img/b')],
    qos:
      '<ovirt-tune:qos xmlns:ovirt-tune="http://ovirt.org/vm/tune/1.0"><ovirt-tune:vcpuLimit>40</ovirt-tune:vcpuLimit>' +
      '<ovirt-tune:ioTune><ovirt-tune:device name="vdb" path="/img/b"><ovirt-tune:guaranteed>' +
      '<ovirt-tune:total_iops_sec>10</ovirt-tune:total_iops_sec></ovirt-tune:guaranteed></ovirt-tune:device>' +
      '</ovirt-tune:ioTune></ovirt-tune:qos>',
  });
  const hv = createLibvirtBackend({ virsh: virsh.run, pidDir: null });
  const [g] = await hv.listGuests();
  assert.ok(g && hv.guestTuning);
  virsh.calls.length = 0;
  const r = (await hv.guestTuning([g.id], { cpu: true, io: true })).get(g.id);
  assert.deepEqual(r, {
    vcpu_count: 4,
    vcpu_user_limit: 40,
    vcpu_quota: 30000,
    vcpu_period: 100000,
    io_tune: [
      { name: 'vda', path: '/img/a', guaranteed: {}, maximum: {}, current: NONE },
      { name: 'vdb', path: '/img/b', guaranteed: { total_iops_sec: 10 }, maximum: {}, current: NONE },
    ],
  });
  assert.deepEqual(
    virsh.calls.map((c) => c.slice(0, 3).join(' ')),
    [`dumpxml ${g.id}`, `schedinfo ${g.id} --live`, `blkdeviotune ${g.id} vda`, `blkdeviotune ${g.id} vdb`],
  );
  virsh.calls.length = 0;
  const cpuOnly = (await hv.guestTuning([g.id], { cpu: true, io: false })).get(g.id);
  assert.ok(cpuOnly && !(cpuOnly instanceof Error) && cpuOnly.io_tune === undefined);
  assert.equal(virsh.calls.length, 2, 'no blkdeviotune when io is not asked');
});
