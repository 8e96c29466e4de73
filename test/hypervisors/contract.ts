// The contract every Hypervisor implementation keeps: the simulator, qmp (on a fake QMP server and
// on real QEMU guests) and libvirt (on a fake virsh and on a real libvirtd) all run these same
// tests. It settles, once, what the backends used to disagree on: target rounding and clamping
// (0, under the floor, over the maximum, non-finite), a guest without a balloon driver, a guest
// gone before or during a call, an aborted call, a closed backend, and units.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GuestReading } from '../../src/fields/catalogue.js';
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
} as const;

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
    const it = (title: string, fn: () => Promise<void>): void => {
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

    it(CONTRACT_TESTS.closed, async () => {
      await hv.close();
      for (const p of [hv.listGuests(), hv.guestStats(['x']), hv.setBalloonTarget('x', 512 * 1024)]) {
        assert.equal(await code(p), 'MOM_E_CLOSED');
      }
    });
  });
}
