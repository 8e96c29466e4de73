// /metrics of the real momd process on its simulated host, scraped over HTTP as Prometheus would,
// checked by Prometheus's own `promtool check metrics`, and watched as cycles pass: values move,
// and a guest that shuts down leaves every per-guest series.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMomd, type MomdProcess } from './support/momd-process.js';
import { inCI, which } from './support/skip.js';
import { until } from './support/wait.js';

const promtool = which('promtool');

/** Two guests on a 4 GiB host; `leaver` shuts down at 40 s. */
const SCENARIO = `name: metrics-test
duration_s: 3600
step_s: 0.5
host: { memory_gib: 4, cpus: 2, swap_gib: 2 }
guests:
  - name: stayer
    memory_mib: 1024
    workload: { kind: idle, touch_mib: 300, keep_mib: 100, boot_s: 5 }
  - name: leaver
    memory_mib: 1024
    stop_s: 40
    workload: { kind: idle, touch_mib: 300, keep_mib: 100, boot_s: 5 }
`;

/** One sample line's value (`name{labels} value`), or undefined when the series is absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('momd /metrics', () => {
  let dir = '';
  let momd: MomdProcess | undefined;
  let url = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'momd-metrics-'));
    writeFileSync(join(dir, 'scenario.yaml'), SCENARIO);
    // Every guest to 900000 KiB: the balloons move, and every cycle has balloon actions.
    writeFileSync(join(dir, 'shrink.policy'), '(with Guests g (g.Control "balloon_target" 900000))\n');
    writeFileSync(
      join(dir, 'mom.conf'),
      [
        '[main]',
        'hypervisor-interface: simulated',
        'simulator-scenario: scenario.yaml',
        'simulator-speed: 10',
        'metrics-listen: 127.0.0.1:0',
        'policy: shrink.policy',
      ].join('\n') + '\n',
    );
    momd = startMomd(['-c', join(dir, 'mom.conf')]);
    const served = await momd.waitFor('metrics served', (l) => typeof l['metrics'] === 'string');
    url = String(served['metrics']);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  after(async () => {
    if (momd) assert.equal(await momd.stop(), 0, momd.stderr());
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<string> => {
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text();
  };

  test(
    'the exposition passes promtool check metrics',
    {
      skip: promtool || inCI() ? false : 'promtool not found (run scripts/ensure-system-packages.sh as root)',
    },
    async () => {
      await until('a done cycle', 20_000, async () =>
        (value(await scrape(), 'momd_policy_cycles_total{status="done"}') ?? 0) >= 1 ? true : undefined,
      );
      const text = await scrape();
      const r = spawnSync(promtool ?? 'promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(r.error, undefined, `promtool: ${String(r.error)}`);
      assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
    },
  );

  test('host, guest, action and cycle values move as cycles pass; a guest that shuts down disappears', async () => {
    const first = await until('both guests in the metrics', 20_000, async () => {
      const t = await scrape();
      return value(t, 'momd_guest_balloon_cur_bytes{guest="leaver"}') !== undefined &&
        value(t, 'momd_guest_balloon_cur_bytes{guest="stayer"}') !== undefined
        ? t
        : undefined;
    });
    assert.equal(value(first, 'momd_host_mem_total_bytes'), 4 * 1024 ** 3);
    assert.equal(value(first, 'momd_guest_balloon_max_bytes{guest="stayer"}'), 1024 ** 3);
    const cycles0 = value(first, 'momd_policy_cycle_duration_seconds_count') ?? 0;
    const free0 = value(first, 'momd_host_mem_free_bytes');

    // The leaver stops at 40 simulated seconds (4 s here) and is gone at the next listing.
    const later = await until('the leaver gone from the metrics', 30_000, async () => {
      const t = await scrape();
      return t.includes('guest="leaver"') ? undefined : t;
    });
    assert.ok((value(later, 'momd_policy_cycle_duration_seconds_count') ?? 0) > cycles0, 'more cycles');
    assert.notEqual(value(later, 'momd_host_mem_free_bytes'), free0, 'the host statistics moved');
    assert.ok(value(later, 'momd_guest_balloon_cur_bytes{guest="stayer"}') !== undefined, 'the stayer stays');
    assert.equal(value(later, 'momd_guest_balloon_target_bytes{guest="stayer"}'), 900000 * 1024);
    assert.ok(
      (value(later, 'momd_guest_balloon_cur_bytes{guest="stayer"}') ?? Infinity) < 1024 ** 3,
      'the balloon moved toward its target',
    );
    const handled = later
      .split('\n')
      .filter((l) =>
        l.startsWith('momd_controller_actions_total{controller="Balloon",control="balloon_target"'),
      );
    assert.ok(handled.length > 0, 'balloon actions counted');
    assert.ok(momd?.log.some((l) => l['msg'] === 'guest removed' && l['guest'] === 'leaver'));
  });
});
