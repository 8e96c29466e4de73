// The contract every HostSource implementation keeps: the simulated host, and the Linux host on
// fixture trees and on this machine. Capabilities and readings agree (a missing capability means
// its fields are nil, never an error), memory adds up in KiB, KSM and zswap knobs written are read
// back and restored, guest memory limits round-trip, and an aborted call rejects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MomError } from '../../src/errors.js';
import { HOST_GROUPS, type HostGroup, type HostReading } from '../../src/fields/catalogue.js';
import { HOST_CAPABILITIES, type HostSource } from '../../src/hypervisors/host.js';
import type { GuestInfo } from '../../src/hypervisors/hypervisor.js';

export interface HostHarness {
  readonly host: HostSource;
  /** KSM knobs may be written (a fixture copy, a simulation); false on the machine itself. */
  readonly writable: boolean;
  /** A guest whose memory can be limited on its own, when the host has cgroup limits to test. */
  readonly limitable?: GuestInfo;
  /** A guest that is not running (an unknown id, or a pid that exited). */
  readonly gone?: GuestInfo;
  /** Reads a KSM knob behind the host's back (sysfs file, model), to check writes and restores. */
  readonly ksmKnob?: (name: 'pages_to_scan' | 'sleep_millisecs') => Promise<number>;
  /** Reads a zswap knob behind the host's back (the sysfs file), as the kernel shows it. */
  readonly zswapKnob?: (name: 'enabled' | 'max_pool_percent') => Promise<string>;
  close(): Promise<void>;
}

const ALL: ReadonlySet<HostGroup> = new Set(HOST_GROUPS);
const CAPABILITIES = HOST_CAPABILITIES;

const num = (r: HostReading, k: keyof HostReading): number => {
  const v = r[k];
  assert.ok(typeof v === 'number' && Number.isFinite(v), `${k}: ${String(v)}`);
  return v;
};

export function runHostContract(name: string, setup: () => Promise<HostHarness>): void {
  describe(`HostSource contract: ${name}`, () => {
    let h: HostHarness;
    before(async () => {
      h = await setup();
    });
    after(async () => {
      await h?.close();
    });

    test('probe: every capability is either present or missing with a reason', async () => {
      const p = await h.host.probe();
      for (const c of CAPABILITIES) {
        assert.ok(p.capabilities.has(c) !== p.missing.has(c), `${c}: present xor missing`);
        if (p.missing.has(c)) assert.ok((p.missing.get(c) ?? '').length > 10, `${c}: a reason`);
      }
    });

    test('HostMemory: every field a finite number in KiB or pages, and the memory adds up', async () => {
      const r = await h.host.read(new Set(['HostMemory']));
      const total = num(r, 'mem_available');
      assert.equal(num(r, 'mem_total'), total);
      assert.ok(num(r, 'mem_unused') <= num(r, 'mem_free') && num(r, 'mem_free') <= total);
      assert.ok(num(r, 'mem_cached') >= 0 && num(r, 'anon_pages') >= 0);
      assert.ok(num(r, 'swap_usage') <= num(r, 'swap_total'));
      for (const k of ['swap_in', 'swap_out'] as const)
        assert.ok(Number.isInteger(num(r, k)) && num(r, k) >= 0);
      if (r.mem_avail !== null && r.mem_avail !== undefined) assert.ok(r.mem_avail <= total);
      assert.equal(r.ksm_run, undefined, 'only the groups asked for are read');
      assert.equal(r.cpu_count, undefined, 'HostCpu is a group of its own');
    });

    test('HostCpu and HostTime: a whole number of CPUs, and a calendar that is a real moment', async () => {
      const r = await h.host.read(new Set(['HostCpu', 'HostTime']));
      assert.ok(Number.isInteger(num(r, 'cpu_count')) && num(r, 'cpu_count') >= 1);
      const ranges: ReadonlyArray<readonly [keyof HostReading, number, number]> = [
        ['time_month', 1, 12],
        ['time_day', 1, 31],
        ['time_hour', 0, 23],
        ['time_minute', 0, 59],
        ['time_second', 0, 59],
        ['time_microsecond', 0, 999_999],
      ];
      for (const [k, lo, hi] of ranges) {
        const v = num(r, k);
        assert.ok(Number.isInteger(v) && v >= lo && v <= hi, `${k}: ${v}`);
      }
      const day = new Date(num(r, 'time_year'), num(r, 'time_month') - 1, num(r, 'time_day'));
      assert.equal(day.getDate(), num(r, 'time_day'), 'a day that exists in that month');
      assert.ok(num(r, 'time_year') >= 2000);
      assert.equal(r.mem_total, undefined, 'only the groups asked for are read');
    });

    test('KSM and PSI fields are there exactly when the capability is', async () => {
      const p = await h.host.probe();
      const r = await h.host.read(ALL);
      if (p.capabilities.has('ksm')) {
        assert.ok([0, 1, 2].includes(num(r, 'ksm_run')));
        assert.ok(num(r, 'ksm_pages_to_scan') >= 0 && num(r, 'ksm_sleep_millisecs') >= 0);
        assert.ok(num(r, 'ksm_pages_sharing') >= 0 && num(r, 'ksm_full_scans') >= 0);
      } else {
        for (const k of ['ksm_run', 'ksm_pages_to_scan', 'ksm_pages_sharing'] as const)
          assert.equal(r[k] ?? null, null, k);
      }
      assert.ok(num(r, 'ksm_shareable') >= 0, 'the guests’ memory is known with or without KSM');
      if (p.capabilities.has('psi')) {
        assert.ok(num(r, 'psi_some_avg10') >= 0 && num(r, 'psi_full_avg10') >= 0);
        assert.ok(num(r, 'psi_full_avg10') <= num(r, 'psi_some_avg10') + 1e-9);
      } else assert.equal(r.psi_some_avg10 ?? null, null);
      if (!p.capabilities.has('ksmd-cpu')) assert.equal(r.ksmd_cpu_usage ?? null, null);
    });

    test('zswap fields are there exactly when the capability is, with HostMemory', async () => {
      const p = await h.host.probe();
      const r = await h.host.read(new Set(['HostMemory']));
      if (!p.capabilities.has('zswap')) {
        for (const k of ['zswap_enabled', 'zswap_max_pool_percent', 'zswap_compressed'] as const)
          assert.equal(r[k] ?? null, null, k);
        return;
      }
      assert.ok([0, 1].includes(num(r, 'zswap_enabled')));
      const pct = num(r, 'zswap_max_pool_percent');
      assert.ok(Number.isInteger(pct) && pct >= 0 && pct <= 100);
      for (const k of ['zswap_compressed', 'zswap_stored', 'zswap_pool_fill'] as const)
        if (r[k] !== null && r[k] !== undefined) assert.ok(num(r, k) >= 0, k);
    });

    test('setZswap: unsupported without zswap; otherwise written, read back, refused when invalid, restored', async (t) => {
      const p = await h.host.probe();
      if (!p.capabilities.has('zswap')) {
        await assert.rejects(
          h.host.setZswap({ enabled: 1 }),
          (e) => e instanceof MomError && e.code === 'MOM_E_UNSUPPORTED',
        );
        assert.deepEqual(await h.host.restoreZswap(), {});
        return;
      }
      if (!h.writable || h.zswapKnob === undefined) {
        t.skip('this host is not ours to write to');
        return;
      }
      const before = [await h.zswapKnob('enabled'), await h.zswapKnob('max_pool_percent')];
      const r0 = await h.host.read(new Set(['HostMemory']));
      const flipped = num(r0, 'zswap_enabled') === 1 ? 0 : 1;
      const pct = num(r0, 'zswap_max_pool_percent') === 17 ? 18 : 17;
      await h.host.setZswap({ enabled: flipped, maxPoolPercent: pct });
      const r = await h.host.read(new Set(['HostMemory']));
      assert.deepEqual([r.zswap_enabled, r.zswap_max_pool_percent], [flipped, pct]);
      await assert.rejects(
        h.host.setZswap({ maxPoolPercent: 250 }),
        (e) => e instanceof MomError && e.code === 'MOM_E_INVALID_ARGUMENT',
      );
      assert.deepEqual(Object.keys(await h.host.restoreZswap()).sort(), ['enabled', 'maxPoolPercent']);
      assert.deepEqual([await h.zswapKnob('enabled'), await h.zswapKnob('max_pool_percent')], before);
    });

    test('memory limits: a limitable guest round-trips; a gone guest is MOM_E_GUEST_GONE or unsupported', async (t) => {
      const p = await h.host.probe();
      if (h.gone !== undefined) {
        const r = (await h.host.memoryLimits([h.gone])).get(h.gone.id);
        assert.ok(
          r instanceof MomError && ['MOM_E_GUEST_GONE', 'MOM_E_UNSUPPORTED'].includes(r.code),
          String(r),
        );
      }
      if (!p.capabilities.has('cgroup-limits') || h.limitable === undefined) {
        t.skip('no guest to limit on this host');
        return;
      }
      const g = h.limitable;
      const was = (await h.host.memoryLimits([g])).get(g.id);
      assert.ok(was !== undefined && !(was instanceof Error), String(was));
      await h.host.setMemoryLimit(g, 300 * 1024);
      const now = (await h.host.memoryLimits([g])).get(g.id);
      assert.ok(now && !(now instanceof Error) && Math.abs((now.limitKib ?? 0) - 300 * 1024) < 64);
      await assert.rejects(
        h.host.setMemoryLimit(g, -5),
        (e) => e instanceof MomError && e.code === 'MOM_E_INVALID_ARGUMENT',
      );
      await h.host.setMemoryLimit(g, was.limitKib);
      const back = (await h.host.memoryLimits([g])).get(g.id);
      assert.ok(back && !(back instanceof Error));
      assert.equal(back.limitKib === null, was.limitKib === null);
    });

    test('an aborted signal rejects reads and writes with its reason', async () => {
      const ac = new AbortController();
      const reason = new Error('cycle cancelled');
      ac.abort(reason);
      await assert.rejects(
        h.host.read(ALL, ac.signal),
        (e) => e === reason || (e as Error).name === 'AbortError',
      );
      await assert.rejects(
        h.host.probe(ac.signal),
        (e) => e === reason || (e as Error).name === 'AbortError',
      );
    });
    test('setKsm: unsupported without KSM; otherwise written, read back, refused when invalid, restored', async (t) => {
      const p = await h.host.probe();
      if (!p.capabilities.has('ksm')) {
        await assert.rejects(
          h.host.setKsm({ run: 0 }),
          (e) => e instanceof MomError && e.code === 'MOM_E_UNSUPPORTED',
        );
        return;
      }
      if (!h.writable || h.ksmKnob === undefined) {
        t.skip('this host is not ours to write to');
        return;
      }
      const before = await h.ksmKnob('pages_to_scan');
      await h.host.setKsm({ pagesToScan: before + 17, sleepMillisecs: 33 });
      assert.equal(num(await h.host.read(new Set(['HostKSM'])), 'ksm_pages_to_scan'), before + 17);
      assert.equal(await h.ksmKnob('sleep_millisecs'), 33);
      await assert.rejects(
        h.host.setKsm({ run: 7 }),
        (e) => e instanceof MomError && e.code === 'MOM_E_INVALID_ARGUMENT',
      );
      await h.host.close({ restore: true });
      assert.equal(await h.ksmKnob('pages_to_scan'), before, 'close with restore puts the knobs back');
      assert.equal((await h.ksmKnob('sleep_millisecs')) !== 33 || before === 33, true);
    });

    test('after close every call fails with MOM_E_CLOSED', async () => {
      await h.host.close({ restore: false });
      await assert.rejects(h.host.read(ALL), (e) => e instanceof MomError && e.code === 'MOM_E_CLOSED');
      await assert.rejects(
        h.host.setKsm({ run: 0 }),
        (e) => e instanceof MomError && e.code === 'MOM_E_CLOSED',
      );
    });
  });
}
