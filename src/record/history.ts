// Rebuilds, cycle after cycle, the snapshot the engine evaluated when it recorded each cycle: a
// cycle line holds only the samples new since the line before, so the rolling history (as many
// samples per entity as the header's historyLength) is kept here, as the engine's monitors kept
// it. The replay uses it; so can a dashboard that wants each guest's history.
import type { Sample } from '../entities/entity.js';
import type { Snapshot } from '../entities/snapshot.js';
import type { RecordedEntity } from './format.js';
import type { RecordEntry } from './reader.js';

export class RecordedHistory {
  private readonly samples = new Map<string, Sample[]>();

  /**
   * Takes in one recorded cycle (in the order read) and returns its snapshot in the form
   * `momctl policy run --snapshot` reads; null for a skipped cycle, which had none.
   */
  next({ header, cycle }: RecordEntry): Snapshot | null {
    if (cycle.host === null) return null;
    const keep = header.historyLength;
    const host = this.advance('\u0000host', cycle.host, keep);
    const guests = cycle.guests.map((g) => ({
      properties: { ...g.properties },
      stats: this.advance(g.properties.name, g, keep),
    }));
    // A guest missing from this cycle was not ready, or gone: if gone, it comes back with a new history.
    return {
      ...(header.fields !== null
        ? { fields: { host: [...header.fields.host], guest: [...header.fields.guest] } }
        : {}),
      host: { properties: { ...cycle.host.properties }, stats: host },
      guests,
    };
  }

  private advance(key: string, entity: RecordedEntity, keep: number): Sample[] {
    const kept = entity.newHistory ? [] : (this.samples.get(key) ?? []);
    const next = [...kept, ...entity.samples].slice(-keep);
    this.samples.set(key, next);
    return [...next];
  }
}
