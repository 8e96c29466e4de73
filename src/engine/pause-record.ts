// Where momd notes the guest it paused for contention (contention-pause-record), so that a momd
// killed while it holds a guest paused (SIGKILL, a crash that skips the clean shutdown) does not
// leave it paused for ever: the next momd reads the note and resumes that guest. The note is
// written before the pause is asked for and removed once the guest runs again or is gone. A
// directory under /run is cleared at boot, when the guests are gone too.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** The guest in the note: its backend id and its name. */
export interface PausedGuest {
  readonly id: string;
  readonly name: string;
}

const pausedGuestSchema = z.object({ id: z.string(), name: z.string() });

export interface PauseRecord {
  /** The guest noted, or null when there is no note. Throws when the note cannot be read or parsed. */
  load(): PausedGuest | null;
  /** Notes the guest (replacing any note). Throws when it cannot be written. */
  save(guest: PausedGuest): void;
  /** Removes the note; no note is fine. Throws when it cannot be removed. */
  clear(): void;
}

/** The note as a small JSON file at `file`, written whole (a temporary file renamed over it). */
export function fileRecord(file: string): PauseRecord {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      const noted = pausedGuestSchema.safeParse(JSON.parse(text));
      if (!noted.success) throw new Error(`${file}: expected {"id": "...", "name": "..."}`);
      return noted.data;
    },
    save(guest) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ id: guest.id, name: guest.name })}\n`, { mode: 0o644 });
      renameSync(tmp, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

/** A note kept in memory only (tests, and an engine built without a file). */
export function memoryRecord(
  initial: PausedGuest | null = null,
): PauseRecord & { current: PausedGuest | null } {
  return {
    current: initial,
    load() {
      return this.current;
    },
    save(guest) {
      this.current = guest;
    },
    clear() {
      this.current = null;
    },
  };
}
