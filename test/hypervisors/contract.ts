// The contract every Hypervisor implementation keeps: the simulator, qmp (on a fake QMP server and
// on real QEMU guests) and libvirt (on a fake virsh and on a real libvirtd) all run these same
// tests. It settles, once, what the backends used to disagree on: target rounding and clamping
// (0, under the floor, over the maximum, non-finite), a guest without a balloon driver, a guest
// gone before or during a call, an aborted call, a closed backend, and units; and, for backends
// with cpu-tune or io-tune, that a vCPU limit or a disk throttle set is the one read back; for
// backends with pause, that a guest paused reads as paused and runs again when resumed.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { GuestReading } from '../../src/fields/catalogue.js';
import { IO_TUNE_KEYS, type IoTuneValues, NO_IO_LIMITS } from '../../src/fields/io-tune.js';
import {
  GUEST_PAGE_KIB,
  HypervisorError,
  MIN_BALLOON_KIB,
  type GuestInfo,
  type Hypervisor,
} from '../../src/hypervisors/hypervisor.js';

export interface ContractGuest {
  readonly name: string;
  /** Its configured memory, KiB: the backend must report exactly this as balloon_max. */
  readonly maxKib: number;
  /** The backend's own floor for it (libvirt's guarantee), KiB; null when none. */
  readonly floorKib: number | null;
}

export interface HypervisorHarness {
  readonly hypervisor: Hypervisor;
  /** A running guest whose balloon driver reports statistics. */
  readonly withDriver: ContractGuest;
  /** A running guest with a balloon device but no driver in it. */
  readonly withoutDriver: ContractGuest;
  /** A running guest the suite may end; `end` resolves once it is gone (stopped or killed). */
  readonly disposable: { readonly name: string; end(): Promise<void> };
  /** Lets time pass for a balloon to move (the simulator advances; a real guest is waited for). */
  settle(): Promise<void>;
  /**
   * For the tuning cases: a guest whose vCPU limit momd can set (its own CPU cgroup on qmp), and a
   * guest's disk that can be throttled. Without them, those cases check less or are skipped.
   */
  readonly tuning?: {
    readonly cpuGuest?: string;
    readonly disk?: { readonly guest: string; readonly name: string };
  };
  /** Undoes what the harness set up. */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Skip the whole suite, with this reason (real guests not available here); false runs it. */
  readonly skipAll?: string | false;
  /** Tests this implementation cannot run, with the reason (shown as the skip message). */
  readonly skip?: ReadonlyArray<{ readonly reason: string; readonly tests: readonly string[] }>;
  /** How long a balloon may take to reach a target (ms; real guests are slow under TCG). */
  readonly moveTimeoutMs?: number;
  /** Per-test timeout (ms). */
  readonly timeoutMs?: number;
}

export const CONTRACT_TESTS = {
  list: 'lists the running guests with id, name and uuid; a pid only with the guest-pid capability',
  reading: 'a reading is in KiB and pages: balloon_max exact, memory within it, counters whole',
  noDriver:
    'a guest without a balloon driver: its balloon size, no statistics; a target is taken and ignored',
  targets: 'targets: whole pages, within [max(floor, 64 MiB), max]; non-finite or negative refused',
  moves: 'a target is reached, and the balloon comes back to its maximum',
  gone: 'an id never listed is MOM_E_GUEST_GONE: in the map of guestStats, thrown by setBalloonTarget',
  goneDuring:
    'a guest gone during a call: that guest is read, gone or timed out, the others are read; then it is gone',
  aborted: 'an aborted signal rejects every call with its reason',
  closed: 'after close every call fails with MOM_E_CLOSED',
  tuningDeclared: 'cpu-tune and io-tune are declared exactly when guestTuning and their setter are there',
  cpuTune:
    'cpu-tune: vCPU count and user limit are read; a quota and period set are read back, -1 lifts the limit, out of range is refused',
  ioTune:
    'io-tune: each disk has six whole limits; a throttle set is read back, 0 lifts it, a total with a read limit is refused',
  agent:
    'guest-agent: declared exactly when guestAgentStats is there; a guest without an agent is a HypervisorError in the map, an id never listed MOM_E_GUEST_GONE',
  pause:
    'pause then resume: a paused guest reads as paused and stays listed and read, then runs again; both are idempotent; a gone guest is MOM_E_GUEST_GONE',
} as const;

const NO_THROTTLE = NO_IO_LIMITS;

export function runHypervisorContract(
  name: string,
  setup: () => Promise<HypervisorHarness>,
  opts: ContractOptions = {},
): void {
  const skipped = (t: string): string | undefined => opts.skip?.find((s) => s.tests.includes(t))?.reason;
  const moveTimeoutMs = opts.moveTimeoutMs ?? 5000;
  const suiteOptions = {
    timeout: opts.timeoutMs ?? 120_000,
    ...(opts.skipAll ? { skip: opts.skipAll } : {}),
  };
  describe(`Hypervisor contract: ${name}`, suiteOptions, () => {
    let h: HypervisorHarness;
    let hv: Hypervisor;
    const it = (title: string, fn: (t: TestContext) => Promise<void>): void => {
      const reason = skipped(title);
      test(title, reason !== undefined ? { skip: reason } : {}, fn);
    };
    const guestNamed = async (n: string): Promise<GuestInfo> => {
      const g = (await hv.listGuests()).find((x) => x.name === n);
      assert.ok(g, `guest ${n} is listed`);
      return g;
    };
    const read = async (g: GuestInfo): Promise<GuestReading> => {
      const r = (await hv.guestStats([g.id])).get(g.id);
      assert.ok(r !== undefined && !(r instanceof Error), `${g.name}: ${String(r)}`);
      return r;
    };
    const balloonReaches = async (g: GuestInfo, kib: number): Promise<void> => {
      const deadline = Date.now() + moveTimeoutMs;
      for (;;) {
        await h.settle();
        const cur = (await read(g)).balloon_cur;
        if (typeof cur === 'number' && Math.abs(cur - kib) <= GUEST_PAGE_KIB) return;
        assert.ok(
          Date.now() < deadline,
          `${g.name}: balloon at ${cur}, not ${kib} after ${moveTimeoutMs} ms`,
        );
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const code = async (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'resolved',
        (err: unknown) =>
          err instanceof HypervisorError ? err.code : `not a HypervisorError: ${String(err)}`,
      );

    before(async () => {
      h = await setup();
      hv = h.hypervisor;
    });
    after(async () => {
      await h?.close();
    });

    it(CONTRACT_TESTS.list, async () => {
      const listed = await hv.listGuests();
      for (const n of [h.withDriver.name, h.withoutDriver.name]) {
        const g = listed.find((x) => x.name === n);
        assert.ok(g, `${n} listed`);
        assert.ok(g.id !== '' && g.uuid !== '');
        if (hv.capabilities.has('guest-pid'))
          assert.ok(Number.isInteger(g.pid) && (g.pid ?? 0) > 0, `${n} pid`);
        else assert.equal(g.pid, null);
      }
      assert.equal(new Set(listed.map((g) => g.id)).size, listed.length, 'ids are unique');
    });

    it(CONTRACT_TESTS.reading, async () => {
      const g = await guestNamed(h.withDriver.name);
      const deadline = Date.now() + moveTimeoutMs * 4;
      let r = await read(g);
      // A real guest's driver may not have reported yet right after boot.
      while (typeof r.mem_available !== 'number' && Date.now() < deadline) {
        await h.settle();
        await new Promise((res) => setTimeout(res, 200));
        r = await read(g);
      }
      assert.equal(r.balloon_max, h.withDriver.maxKib, 'balloon_max is the configured memory, in KiB');
      assert.ok(
        typeof r.balloon_cur === 'number' && r.balloon_cur > 0 && r.balloon_cur <= h.withDriver.maxKib,
      );
      const total = r.mem_available;
      assert.ok(typeof total === 'number' && total > 0 && total <= r.balloon_cur, `mem_available ${total}`);
      for (const k of ['mem_unused', 'mem_usable', 'mem_cache'] as const) {
        const v = r[k];
        if (v === null || v === undefined) continue;
        assert.ok(Number.isInteger(v) && v >= 0 && v <= total, `${k} ${v} within ${total}`);
      }
      for (const k of ['swap_in', 'swap_out', 'major_fault', 'minor_fault'] as const) {
        const v = r[k];
        if (v === null || v === undefined) continue;
        assert.ok(Number.isInteger(v) && v >= 0, `${k} ${v}`);
      }
      if (typeof r.stats_age_s === 'number') assert.ok(r.stats_age_s >= 0 && r.stats_age_s < 3600);
      if (typeof r.rss === 'number') assert.ok(r.rss > 0);
      for (const [k, v] of Object.entries(r)) {
        assert.ok(v === null || (typeof v === 'number' && Number.isFinite(v)), `${k}: ${String(v)}`);
      }
    });

    it(CONTRACT_TESTS.noDriver, async () => {
      const g = await guestNamed(h.withoutDriver.name);
      const r = await read(g);
      assert.equal(r.balloon_max, h.withoutDriver.maxKib);
      assert.equal(r.balloon_cur, h.withoutDriver.maxKib);
      for (const k of ['mem_available', 'mem_unused', 'swap_in', 'major_fault'] as const)
        assert.equal(r[k] ?? null, null, `${k} is not reported`);
      const target = h.withoutDriver.maxKib - 32 * 1024;
      assert.equal(await hv.setBalloonTarget(g.id, target), target, 'the device takes the target');
      await h.settle();
      assert.equal((await read(g)).balloon_cur, h.withoutDriver.maxKib, 'and the guest ignores it');
      await hv.setBalloonTarget(g.id, h.withoutDriver.maxKib);
    });

    it(CONTRACT_TESTS.targets, async () => {
      const gd = h.withDriver;
      const g = await guestNamed(gd.name);
      const floor = Math.max(gd.floorKib ?? 0, MIN_BALLOON_KIB);
      assert.equal(
        await hv.setBalloonTarget(g.id, gd.maxKib + 10 * 1024 * 1024),
        gd.maxKib,
        'over the maximum',
      );
      const mid = gd.maxKib - 40 * 1024;
      assert.equal(await hv.setBalloonTarget(g.id, mid + 3.7), mid, 'rounded down to whole pages');
      assert.equal(await hv.setBalloonTarget(g.id, mid + 2), mid);
      assert.equal(await hv.setBalloonTarget(g.id, 0), floor, '0 is raised to the floor');
      assert.equal(await hv.setBalloonTarget(g.id, floor - 4096), floor, 'under the floor');
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
        assert.equal(await code(hv.setBalloonTarget(g.id, bad)), 'MOM_E_INVALID_ARGUMENT', String(bad));
      }
      assert.equal(await hv.setBalloonTarget(g.id, gd.maxKib), gd.maxKib);
      await balloonReaches(g, gd.maxKib);
    });

    it(CONTRACT_TESTS.moves, async () => {
      const gd = h.withDriver;
      const g = await guestNamed(gd.name);
      const target = gd.maxKib - 48 * 1024;
      assert.equal(await hv.setBalloonTarget(g.id, target), target);
      await balloonReaches(g, target);
      await hv.setBalloonTarget(g.id, gd.maxKib);
      await balloonReaches(g, gd.maxKib);
    });

    it(CONTRACT_TESTS.gone, async () => {
      const id = 'ffffffff-0000-4000-8000-00000000dead';
      const r = (await hv.guestStats([id])).get(id);
      assert.ok(r instanceof HypervisorError && r.code === 'MOM_E_GUEST_GONE', String(r));
      assert.equal(await code(hv.setBalloonTarget(id, 512 * 1024)), 'MOM_E_GUEST_GONE');
    });

    it(CONTRACT_TESTS.goneDuring, async () => {
      const listed = await hv.listGuests();
      const doomed = listed.find((g) => g.name === h.disposable.name);
      assert.ok(doomed, 'the disposable guest is listed');
      const call = hv.guestStats(listed.map((g) => g.id));
      await h.disposable.end();
      const during = await call;
      const d = during.get(doomed.id);
      // As the title says: read, gone, or timed out (a QEMU killed mid-reply may leave its socket
      // open for a moment, and the request then waits out its timeout).
      assert.ok(
        d !== undefined &&
          (!(d instanceof Error) ||
            (d instanceof HypervisorError && (d.code === 'MOM_E_GUEST_GONE' || d.code === 'MOM_E_TIMEOUT'))),
        `during: ${String(d)}`,
      );
      const again = await hv.guestStats(listed.map((g) => g.id));
      const gone = again.get(doomed.id);
      assert.ok(
        gone instanceof HypervisorError && gone.code === 'MOM_E_GUEST_GONE',
        `after: ${String(gone)}`,
      );
      const drv = listed.find((g) => g.name === h.withDriver.name);
      assert.ok(
        drv && !(again.get(drv.id) instanceof Error),
        `the others are still read: ${String(again.get(drv?.id ?? ''))}`,
      );
      assert.ok(!(await hv.listGuests()).some((g) => g.id === doomed.id), 'no longer listed');
      assert.equal(await code(hv.setBalloonTarget(doomed.id, 512 * 1024)), 'MOM_E_GUEST_GONE');
    });

    it(CONTRACT_TESTS.aborted, async () => {
      const g = await guestNamed(h.withDriver.name);
      const ac = new AbortController();
      const reason = new Error('the cycle was cancelled');
      ac.abort(reason);
      for (const p of [
        hv.listGuests(ac.signal),
        hv.guestStats([g.id], ac.signal),
        hv.setBalloonTarget(g.id, h.withDriver.maxKib, ac.signal),
      ]) {
        await assert.rejects(p, (err) => err === reason);
      }
    });

    it(CONTRACT_TESTS.tuningDeclared, async () => {
      const caps = hv.capabilities;
      const has = (m: unknown): boolean => typeof m === 'function';
      assert.equal(
        caps.has('cpu-tune'),
        has(hv.guestTuning) && has(hv.setCpuTune),
        'cpu-tune iff guestTuning and setCpuTune',
      );
      assert.equal(
        caps.has('io-tune'),
        has(hv.guestTuning) && has(hv.setIoTune),
        'io-tune iff guestTuning and setIoTune',
      );
    });

    const tuningOf = async (g: GuestInfo, want: { cpu: boolean; io: boolean }): Promise<GuestReading> => {
      assert.ok(hv.guestTuning);
      const r = (await hv.guestTuning([g.id], want)).get(g.id);
      assert.ok(r !== undefined && !(r instanceof Error), `${g.name}: ${String(r)}`);
      return r;
    };

    it(CONTRACT_TESTS.cpuTune, async (t) => {
      if (!hv.capabilities.has('cpu-tune') || hv.setCpuTune === undefined || hv.guestTuning === undefined) {
        t.skip(`the ${hv.name} backend does not declare cpu-tune`);
        return;
      }
      const id = 'ffffffff-0000-4000-8000-00000000dead';
      const gone = (await hv.guestTuning([id], { cpu: true, io: false })).get(id);
      assert.ok(gone instanceof HypervisorError && gone.code === 'MOM_E_GUEST_GONE', String(gone));
      const g = await guestNamed(h.tuning?.cpuGuest ?? h.withDriver.name);
      const r = await tuningOf(g, { cpu: true, io: false });
      assert.ok(Number.isInteger(r.vcpu_count) && (r.vcpu_count ?? 0) >= 1, `vcpu_count ${r.vcpu_count}`);
      assert.ok(
        typeof r.vcpu_user_limit === 'number' && r.vcpu_user_limit > 0 && r.vcpu_user_limit <= 100,
        `vcpu_user_limit ${r.vcpu_user_limit}`,
      );
      assert.equal(r.io_tune, undefined, 'only what was asked');
      if (r.vcpu_quota === null || r.vcpu_quota === undefined) {
        // A guest whose limit cannot be read cannot be limited either: it says so.
        assert.equal(r.vcpu_period ?? null, null);
        assert.equal(await code(hv.setCpuTune(g.id, { quota: 50_000 })), 'MOM_E_UNSUPPORTED');
        assert.equal(h.tuning?.cpuGuest, undefined, `${g.name} was to have a CPU limit of its own`);
        return;
      }
      assert.ok(r.vcpu_quota === -1 || r.vcpu_quota >= 1000, `vcpu_quota ${r.vcpu_quota}`);
      assert.ok(
        Number.isInteger(r.vcpu_period) && (r.vcpu_period ?? 0) >= 1000,
        `vcpu_period ${r.vcpu_period}`,
      );
      await hv.setCpuTune(g.id, { quota: 50_000, period: 200_000 });
      let back = await tuningOf(g, { cpu: true, io: false });
      assert.deepEqual([back.vcpu_quota, back.vcpu_period], [50_000, 200_000]);
      await hv.setCpuTune(g.id, { period: 100_000 });
      back = await tuningOf(g, { cpu: true, io: false });
      assert.deepEqual([back.vcpu_quota, back.vcpu_period], [50_000, 100_000], 'the quota stays');
      for (const bad of [{ period: 999 }, { period: 2_000_000 }, { quota: 10 }, { quota: 1.5e3 + 0.5 }]) {
        assert.equal(await code(hv.setCpuTune(g.id, bad)), 'MOM_E_INVALID_ARGUMENT', JSON.stringify(bad));
      }
      await hv.setCpuTune(g.id, { quota: -1 });
      back = await tuningOf(g, { cpu: true, io: false });
      assert.deepEqual([back.vcpu_quota, back.vcpu_period], [-1, 100_000]);
    });

    it(CONTRACT_TESTS.ioTune, async (t) => {
      if (!hv.capabilities.has('io-tune') || hv.setIoTune === undefined || hv.guestTuning === undefined) {
        t.skip(`the ${hv.name} backend does not declare io-tune`);
        return;
      }
      const disk = h.tuning?.disk;
      if (disk === undefined) {
        t.skip('the harness has no guest with a disk');
        return;
      }
      const g = await guestNamed(disk.guest);
      const read = async (): Promise<IoTuneValues> => {
        const r = await tuningOf(g, { cpu: false, io: true });
        assert.equal(r.vcpu_quota, undefined, 'only what was asked');
        const list = r.io_tune;
        assert.ok(Array.isArray(list), `io_tune ${String(list)}`);
        for (const d of list) {
          assert.ok(d.name !== '', 'a disk has a name');
          for (const k of IO_TUNE_KEYS)
            assert.ok(Number.isInteger(d.current[k]) && d.current[k] >= 0, `${d.name} ${k} ${d.current[k]}`);
        }
        const found = list.find((d) => d.name === disk.name);
        assert.ok(found, `${disk.name} in ${list.map((d) => d.name).join(', ')}`);
        return found.current;
      };
      await read();
      const limited = { ...NO_THROTTLE, total_bytes_sec: 10 * 1024 * 1024, total_iops_sec: 200 };
      await hv.setIoTune(g.id, disk.name, limited);
      assert.deepEqual(await read(), limited);
      const both = { ...NO_THROTTLE, total_bytes_sec: 1024 * 1024, read_bytes_sec: 1024 * 1024 };
      assert.equal(await code(hv.setIoTune(g.id, disk.name, both)), 'MOM_E_INVALID_ARGUMENT');
      assert.equal(await code(hv.setIoTune(g.id, 'no-such-disk', NO_THROTTLE)), 'MOM_E_INVALID_ARGUMENT');
      assert.equal(
        await code(hv.setIoTune(g.id, disk.name, { ...NO_THROTTLE, read_iops_sec: -1 })),
        'MOM_E_INVALID_ARGUMENT',
      );
      assert.deepEqual(await read(), limited, 'a refused throttle changes nothing');
      await hv.setIoTune(g.id, disk.name, NO_THROTTLE);
      assert.deepEqual(await read(), NO_THROTTLE);
    });

    it(CONTRACT_TESTS.agent, async (t) => {
      assert.equal(
        hv.capabilities.has('guest-agent'),
        typeof hv.guestAgentStats === 'function',
        'guest-agent iff guestAgentStats',
      );
      if (!hv.capabilities.has('guest-agent') || hv.guestAgentStats === undefined) {
        t.skip(`the ${hv.name} backend does not declare guest-agent`);
        return;
      }
      // The harness's guests run no agent (the real one is in test/integration/guest-agent.test.ts).
      const g = await guestNamed(h.withoutDriver.name);
      const id = 'ffffffff-0000-4000-8000-00000000dead';
      const got = await hv.guestAgentStats([g.id, id]);
      const none = got.get(g.id);
      assert.ok(none instanceof HypervisorError, `${g.name}: ${String(none)}`);
      assert.notEqual(none.code, 'MOM_E_GUEST_GONE', none.message);
      const gone = got.get(id);
      assert.ok(gone instanceof HypervisorError && gone.code === 'MOM_E_GUEST_GONE', String(gone));
    });

    it(CONTRACT_TESTS.pause, async (t) => {
      const has = (m: unknown): boolean => typeof m === 'function';
      assert.equal(
        hv.capabilities.has('pause'),
        has(hv.pause) && has(hv.resume) && has(hv.runState),
        'pause iff pause, resume and runState',
      );
      if (
        !hv.capabilities.has('pause') ||
        hv.pause === undefined ||
        hv.resume === undefined ||
        hv.runState === undefined
      ) {
        t.skip(`the ${hv.name} backend does not declare pause`);
        return;
      }
      const id = 'ffffffff-0000-4000-8000-00000000dead';
      // One call at a time: a real backend's rejection comes later, and must find its handler.
      assert.equal(await code(hv.runState(id)), 'MOM_E_GUEST_GONE');
      assert.equal(await code(hv.pause(id)), 'MOM_E_GUEST_GONE');
      assert.equal(await code(hv.resume(id)), 'MOM_E_GUEST_GONE');
      const g = await guestNamed(h.withoutDriver.name);
      assert.equal(await hv.runState(g.id), 'running');
      await hv.pause(g.id);
      try {
        assert.equal(await hv.runState(g.id), 'paused');
        await hv.pause(g.id);
        assert.equal(await hv.runState(g.id), 'paused', 'a second pause leaves it paused');
        assert.ok(
          (await hv.listGuests()).some((x) => x.id === g.id),
          'a paused guest is still listed',
        );
        assert.equal((await read(g)).balloon_max, h.withoutDriver.maxKib, 'and still read');
      } finally {
        await hv.resume(g.id);
      }
      assert.equal(await hv.runState(g.id), 'running');
      await hv.resume(g.id);
      assert.equal(await hv.runState(g.id), 'running', 'resuming a running guest leaves it running');
    });

    it(CONTRACT_TESTS.closed, async () => {
      await hv.close();
      for (const p of [hv.listGuests(), hv.guestStats(['x']), hv.setBalloonTarget('x', 512 * 1024)]) {
        assert.equal(await code(p), 'MOM_E_CLOSED');
      }
      if (hv.guestTuning)
        assert.equal(await code(hv.guestTuning(['x'], { cpu: true, io: true })), 'MOM_E_CLOSED');
      if (hv.setCpuTune) assert.equal(await code(hv.setCpuTune('x', { quota: -1 })), 'MOM_E_CLOSED');
      if (hv.setIoTune) assert.equal(await code(hv.setIoTune('x', 'vda', NO_THROTTLE)), 'MOM_E_CLOSED');
      if (hv.runState) assert.equal(await code(hv.runState('x')), 'MOM_E_CLOSED');
      if (hv.pause) assert.equal(await code(hv.pause('x')), 'MOM_E_CLOSED');
      if (hv.resume) assert.equal(await code(hv.resume('x')), 'MOM_E_CLOSED');
    });
  });
}
