// MOM's plot files ([main] plot-dir), fed by the engine's 'collection' and 'guest' events. As MOM
// does: each start of momd makes a new directory PLOT-DIR/momplot-NNN (the next free number, 000 to
// 999), with one tab-separated file per entity, `host.dat` and `GUEST.dat`. Each file opens with a
// header line `# time\tFIELD\t...` (the sample's fields in name order) and gets one row per sample:
// the wall-clock time in seconds since the epoch, then the values. An incomplete sample is the
// comment line `# TIME Incomplete data set`; a nil field in a sample is `nan`. Plotting scripts
// written for MOM's files (gnuplot's `using 1:N`) keep working.
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../entities/entity.js';
import type { EngineEvents } from '../engine/events.js';

interface PlotFile {
  fd: number | null;
  fields: readonly string[] | null;
}

export class PlotFiles {
  private readonly files = new Map<string, PlotFile>();

  private constructor(
    /** The momplot-NNN directory of this run. */
    readonly dir: string,
    private readonly onWarning: (message: string) => void,
    private readonly now: () => number,
  ) {}

  /**
   * Makes this run's momplot-NNN directory under `baseDir`. Returns null, after a warning, when
   * it cannot (momd runs on without plots, as MOM does).
   */
  static open(
    baseDir: string,
    onWarning: (message: string) => void,
    now: () => number = () => Date.now() / 1000,
  ): PlotFiles | null {
    let names: string[];
    try {
      // As MOM: plot-dir must exist (a typo is said, not created).
      names = readdirSync(baseDir);
    } catch (err) {
      onWarning(`plot-dir ${baseDir}: cannot be read: ${(err as Error).message}; no plots`);
      return null;
    }
    const used = names.map((n) => /^momplot-(\d{3})$/.exec(n)?.[1]).filter((n) => n !== undefined);
    const next = used.length === 0 ? 0 : Math.max(...used.map(Number)) + 1;
    if (next > 999) {
      onWarning(`plot-dir ${baseDir}: momplot-999 is taken; clear the directory or choose another; no plots`);
      return null;
    }
    const dir = join(baseDir, `momplot-${String(next).padStart(3, '0')}`);
    try {
      mkdirSync(dir);
    } catch (err) {
      onWarning(`plot-dir ${dir}: cannot be made: ${(err as Error).message}; no plots`);
      return null;
    }
    return new PlotFiles(dir, onWarning, now);
  }

  /** Listens to an engine's events; the returned function stops listening. */
  attach(events: EngineEvents): () => void {
    const off = [
      events.on('collection', (e) => this.plot(e.scope === 'host' ? 'host' : e.entity, e.sample)),
      events.on('guest', (e) => {
        if (e.change === 'gone') this.closeOne(e.entity);
      }),
    ];
    return () => off.forEach((f) => f());
  }

  /** Closes every file. */
  close(): void {
    for (const name of [...this.files.keys()]) this.closeOne(name);
  }

  private plot(entity: string, sample: Sample | null): void {
    let file = this.files.get(entity);
    if (file === undefined) {
      file = { fd: this.openFile(entity), fields: null };
      this.files.set(entity, file);
    }
    if (file.fd === null) return;
    const time = String(this.now());
    let text: string;
    if (sample === null) text = `# ${time} Incomplete data set\n`;
    else {
      text = '';
      if (file.fields === null) {
        file.fields = Object.keys(sample).sort();
        text += `# time\t${file.fields.join('\t')}\n`;
      }
      text += [time, ...file.fields.map((f) => cell(sample[f]))].join('\t') + '\n';
    }
    try {
      writeSync(file.fd, text);
    } catch (err) {
      this.onWarning(`plot file of ${entity}: cannot be written: ${(err as Error).message}; its plot stops`);
      closeSync(file.fd);
      file.fd = null;
    }
  }

  private openFile(entity: string): number | null {
    // A guest name is a file name here: a slash (or a leading dot) would leave the directory.
    const path = join(this.dir, `${entity.replace(/\//g, '_').replace(/^\./, '_')}.dat`);
    try {
      return openSync(path, 'a');
    } catch (err) {
      this.onWarning(`plot file ${path}: cannot be opened: ${(err as Error).message}; no plot for ${entity}`);
      return null;
    }
  }

  private closeOne(entity: string): void {
    const file = this.files.get(entity);
    if (file?.fd != null) closeSync(file.fd);
    this.files.delete(entity);
  }
}

function cell(v: Sample[string] | undefined): string {
  // A list (io_tune) is not plotted.
  if (v === null || v === undefined || typeof v === 'object') return 'nan';
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}
