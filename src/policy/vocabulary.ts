// The names a policy can use on entities, as the strict check (lint.ts) judges them: the methods
// every entity has, the statistics of each scope and the controls. The policy package knows no
// collectors or controllers; `momctl policy check` fills a Vocabulary from the field catalogue,
// the configuration and the controllers, and hands it in.

/** MOM's entity methods (src/entities/entity.ts; vocabulary.test.ts keeps the two in step). */
export const ENTITY_METHODS: readonly string[] = [
  'Prop',
  'Stat',
  'StatAvg',
  'SetVar',
  'GetVar',
  'Control',
  'GetControl',
];

/** The statistics of one scope (host or guest). */
export interface ScopeFields {
  /** Every statistic an entity of this scope declares: reading another is an error. */
  readonly known: ReadonlySet<string>;
  /** The ones a configured collector fills; a known one outside this set is always nil. */
  readonly configured: ReadonlySet<string>;
  /** The collector (MOM's group name) of each known statistic, to say which one to configure. */
  readonly collectorOf: ReadonlyMap<string, string>;
}

export interface Vocabulary {
  readonly host: ScopeFields;
  readonly guest: ScopeFields;
  /** Control name → the controller that applies it, for every controller momd has. */
  readonly controlOwners: ReadonlyMap<string, string>;
  /** The controls the configured controllers apply. */
  readonly configuredControls: ReadonlySet<string>;
  /**
   * Whether a configuration was given. Without one, a control that some controller applies is
   * taken as wanted: only the configuration says which controllers run.
   */
  readonly fromConfiguration: boolean;
}
