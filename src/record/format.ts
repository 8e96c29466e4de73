// The recording's file format (docs/record-replay.md): JSON lines, one header line and then one
// line per policy cycle. A header applies to the cycle lines after it, up to the next header; the
// recorder writes one at the start of every file, and again when what it says changes. The zod
// shapes here are the one definition the writer's types and the reader's checks come from.
import { z } from 'zod';
import { ioTuneListSchema } from '../fields/io-tune.js';

/** The format version this momd writes and reads. */
export const RECORD_FORMAT = 1;

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const sampleSchema = z.record(z.string(), z.union([scalar, ioTuneListSchema.readonly()]));
const json: z.ZodType<Json> = z.lazy(() => z.union([scalar, z.array(json), z.record(z.string(), json)]));
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const headerSchema = z.object({
  kind: z.literal('header'),
  format: z.literal(RECORD_FORMAT),
  /** The momd version that wrote the lines below. */
  momd: z.string(),
  /** Wall-clock time the header was written (ISO 8601). */
  time: z.string(),
  /** The statistics the snapshots declared (every field of the catalogue); null before the first. */
  fields: z.object({ host: z.array(z.string()), guest: z.array(z.string()) }).nullable(),
  /** sample-history-length: how many samples per entity the engine kept, so a replay keeps as many. */
  historyLength: z.number().int().positive(),
});

const entitySchema = z.object({
  properties: z.record(z.string(), z.unknown()),
  /**
   * The samples added to the entity's history since the previous cycle line, oldest first; the
   * last one is its latest. Empty: no new sample (the latest is the one recorded before).
   */
  samples: z.array(sampleSchema),
  /**
   * True when `samples` is the entity's whole kept history rather than what is new: the first
   * line for this entity in this run, or a history that no longer follows on from the last line.
   */
  newHistory: z.boolean(),
});

const outcomeSchema = z.object({
  controller: z.string(),
  entity: z.string(),
  control: z.string(),
  outcome: z.enum(['applied', 'skipped', 'failed']),
  old: z.number().nullable(),
  new: z.number().nullable(),
  reason: z.string().nullable(),
});

export const cycleSchema = z.object({
  kind: z.literal('cycle'),
  /** Wall-clock time of the end of the cycle (ISO 8601). */
  time: z.string(),
  /** Engine seconds at the end of the cycle (the simulator's clock on a simulated host). */
  at: z.number(),
  durationMs: z.number(),
  status: z.enum(['done', 'policy-error', 'skipped']),
  /** Why it was skipped, or the policy's error; null when done. */
  detail: z.string().nullable(),
  dryRun: z.boolean(),
  /** sha256 of the policy set in force (as `momctl status` shows it); null when none was loaded. */
  policyHash: z.string().nullable(),
  /** null for a skipped cycle (there was no snapshot). */
  host: entitySchema.extend({ properties: z.record(z.string(), z.unknown()) }).nullable(),
  guests: z.array(entitySchema.extend({ properties: z.looseObject({ name: z.string() }) })),
  /** The controls the policy set, as `momctl policy run` prints them; null when it did not evaluate. */
  controls: z
    .object({
      host: z.record(z.string(), json),
      guests: z.record(z.string(), z.record(z.string(), json)),
    })
    .nullable(),
  /** The outcomes that were not 'unchanged' (what was done, skipped or failed). */
  outcomes: z.array(outcomeSchema),
});

export type RecordHeader = z.infer<typeof headerSchema>;
export type RecordedCycle = z.infer<typeof cycleSchema>;
export type RecordedEntity = NonNullable<RecordedCycle['host']>;
export type RecordedGuest = RecordedCycle['guests'][number];
export type RecordedOutcome = RecordedCycle['outcomes'][number];

const lineSchema = z.discriminatedUnion('kind', [headerSchema, cycleSchema]);
export type RecordLine = z.infer<typeof lineSchema>;

/** The line as a header or a cycle, or its problems, each naming the bad field by its path. */
export function checkLine(value: unknown): { ok: true; line: RecordLine } | { ok: false; problem: string } {
  const r = lineSchema.safeParse(value);
  if (r.success) return { ok: true, line: r.data };
  const problems = r.error.issues.map((i) => {
    const path = i.path
      .map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return `${path === '' ? '(line)' : path}: ${i.message}`;
  });
  return { ok: false, problem: problems.join('; ') };
}
