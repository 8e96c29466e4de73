// The snapshot: what the engine hands a policy each cycle and what `momctl policy run --snapshot`
// reads. Memory is in KiB. `stats` is the kept history, oldest first; `fields` lists the declared
// statistics (when absent, every key seen in any sample).
import { z } from 'zod';
import { MomError } from '../errors.js';
import { toJson, type Json, type Value } from '../policy/values.js';
import { Entity } from './entity.js';
import { ioTuneListSchema } from '../fields/io-tune.js';

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()]);
/** A statistic that is a list of records: io_tune, the only one. */
const records = ioTuneListSchema.readonly();
const entitySchema = z.object({
  properties: z.record(z.string(), z.unknown()).default({}),
  stats: z.array(z.record(z.string(), z.union([scalar, records]))),
});
export const snapshotSchema = z.object({
  fields: z
    .object({ host: z.array(z.string()).optional(), guest: z.array(z.string()).optional() })
    .optional(),
  host: entitySchema,
  guests: z.array(
    entitySchema.extend({
      properties: z.looseObject({ name: z.string() }),
    }),
  ),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
type EntityJson = z.infer<typeof entitySchema>;

/** A snapshot that does not validate; the message names each bad field by its path. */
export class SnapshotError extends MomError {
  constructor(message: string) {
    super('MOM_E_INPUT', message);
    this.name = 'SnapshotError';
  }
}

/** Validates parsed JSON as a snapshot; the error names each bad field by its path. */
export function parseSnapshot(json: unknown, file: string): Snapshot {
  const result = snapshotSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${file}: ${formatPath(i.path)}: ${i.message}`);
  throw new SnapshotError(problems.join('\n'));
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

export interface Entities {
  readonly host: Entity;
  readonly guests: readonly Entity[];
}

/** Per-entity SetVar storage carried across cycles, keyed by guest name. */
export interface VariableStore {
  readonly host: Map<string, Value>;
  guest(name: string): Map<string, Value>;
}

export function buildEntities(snapshot: Snapshot, variables?: VariableStore): Entities {
  const { hostFields, guestFields } = fieldsOf(snapshot);
  const host = new Entity({
    kind: 'Host',
    properties: snapshot.host.properties,
    fields: hostFields,
    history: snapshot.host.stats,
    ...(variables ? { variables: variables.host } : {}),
  });
  const guests = snapshot.guests.map(
    (g) =>
      new Entity({
        kind: 'Guest',
        properties: g.properties,
        fields: guestFields,
        history: g.stats,
        ...(variables ? { variables: variables.guest(g.properties.name) } : {}),
      }),
  );
  return { host, guests };
}

export interface ControlsJson {
  host: Record<string, Json>;
  guests: Record<string, Record<string, Json>>;
}

/** The controls a policy set, as `momctl policy run` prints them (guests without controls omitted). */
export function controlsOf({ host, guests }: Entities): ControlsJson {
  const out: ControlsJson = { host: mapToJson(host.controls), guests: {} };
  for (const g of guests) {
    if (g.controls.size === 0) continue;
    out.guests[String(g.properties['name'])] = mapToJson(g.controls);
  }
  return out;
}

function mapToJson(m: ReadonlyMap<string, Value>): Record<string, Json> {
  return Object.fromEntries([...m].map(([k, v]) => [k, toJson(v)]));
}

function declaredFields(
  declared: readonly string[] | undefined,
  entities: readonly EntityJson[],
): Set<string> {
  if (declared !== undefined) return new Set(declared);
  const seen = new Set<string>();
  for (const e of entities) for (const s of e.stats) for (const k of Object.keys(s)) seen.add(k);
  return seen;
}

const fieldCache = new WeakMap<Snapshot, { hostFields: Set<string>; guestFields: Set<string> }>();

/** The declared field sets, worked out once per snapshot object however often it is evaluated. */
function fieldsOf(snapshot: Snapshot): { hostFields: Set<string>; guestFields: Set<string> } {
  let fields = fieldCache.get(snapshot);
  if (fields === undefined) {
    fields = {
      hostFields: declaredFields(snapshot.fields?.host, [snapshot.host]),
      guestFields: declaredFields(snapshot.fields?.guest, snapshot.guests),
    };
    fieldCache.set(snapshot, fields);
  }
  return fields;
}
