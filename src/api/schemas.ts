// The JSON schemas of the API's requests: fastify validates every body, parameter and query string
// against them before a handler runs, and a request that does not fit is a 400 naming the field
// (`body/level must be equal to one of the allowed values`). Bodies are taken as sent: no type
// coercion, no silently dropped properties.
import { VERBOSITIES } from './command-port.js';

/** The largest request body accepted, in bytes (a policy set is text; 1 MiB is plenty). */
export const BODY_LIMIT = 1024 * 1024;

const guestName = { type: 'string', minLength: 1, maxLength: 256 } as const;
/** A count in a query string: digits only (query strings are text; no coercion is on). */
const count = { type: 'string', pattern: '^[0-9]{1,6}$' } as const;

export const guestParams = {
  type: 'object',
  required: ['name'],
  properties: { name: guestName },
} as const;

export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { history: count },
} as const;

export const decisionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: count },
} as const;

/** GET /v1/timeline: the points after seq `after` (-1 or absent: all), and the guests to include. */
export const timelineQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: '^(-1|[0-9]{1,15})$' },
    guests: { type: 'string', maxLength: 65536 },
  },
} as const;

export const policyBody = {
  type: 'object',
  required: ['files'],
  additionalProperties: false,
  properties: {
    files: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: {
        type: 'object',
        required: ['name', 'text'],
        additionalProperties: false,
        properties: {
          // A label for FILE:LINE:COL messages, never a path momd opens: no control characters.
          name: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
          text: { type: 'string' },
        },
      },
    },
  },
} as const;

export const dryRunBody = {
  type: 'object',
  required: ['enabled'],
  additionalProperties: false,
  properties: { enabled: { type: 'boolean' } },
} as const;

export const verbosityBody = {
  type: 'object',
  required: ['level'],
  additionalProperties: false,
  properties: { level: { type: 'string', enum: VERBOSITIES } },
} as const;

/** A query-string count validated by `count`, as a number (undefined when absent). */
export function countOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

/** A comma-separated list of guest names from a query string (empty names dropped). */
export function guestList(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').filter((n) => n !== '');
}
