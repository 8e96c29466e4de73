import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EngineEvents } from '../engine/events.js';
import { PlotFiles } from './plot-files.js';

test("MOM's layout: a new momplot-NNN per run, a .dat file per entity, a header, a row per sample", () => {
  const base = mkdtempSync(join(tmpdir(), 'momd-plot-'));
  try {
    mkdirSync(join(base, 'momplot-007'));
    const warnings: string[] = [];
    let t = 1000;
    const plots = PlotFiles.open(
      base,
      (w) => warnings.push(w),
      () => t++,
    );
    assert.ok(plots);
    assert.equal(plots.dir, join(base, 'momplot-008'));
    const events = new EngineEvents();
    const detach = plots.attach(events);
    events.emit('collection', {
      scope: 'host',
      entity: 'host',
      at: 0,
      sample: { mem_free: 10, anon_pages: 5 },
    });
    events.emit('collection', {
      scope: 'guest',
      entity: 'web1',
      at: 0,
      sample: { balloon_cur: 7, mem_cache: null },
    });
    events.emit('collection', { scope: 'host', entity: 'host', at: 5, sample: null });
    events.emit('collection', {
      scope: 'host',
      entity: 'host',
      at: 10,
      sample: { mem_free: 11, anon_pages: 6 },
    });
    events.emit('collection', { scope: 'guest', entity: '../evil', at: 10, sample: { balloon_cur: 1 } });
    events.emit('guest', { change: 'gone', entity: 'web1', at: 10 });
    detach();
    plots.close();
    assert.deepEqual(readdirSync(plots.dir).sort(), ['_._evil.dat', 'host.dat', 'web1.dat']);
    assert.equal(
      readFileSync(join(plots.dir, 'host.dat'), 'utf8'),
      '# time\tanon_pages\tmem_free\n1000\t5\t10\n# 1002 Incomplete data set\n1003\t6\t11\n',
    );
    assert.equal(
      readFileSync(join(plots.dir, 'web1.dat'), 'utf8'),
      '# time\tballoon_cur\tmem_cache\n1001\t7\tnan\n',
    );
    assert.deepEqual(warnings, []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a plot-dir that cannot be used is a warning, and no plots', () => {
  const warnings: string[] = [];
  assert.equal(
    PlotFiles.open('/proc/momd-cannot-be-here', (w) => warnings.push(w)),
    null,
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^plot-dir \/proc\/momd-cannot-be-here: cannot be read: .*; no plots$/);
});
