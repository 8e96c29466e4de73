// Bearer-token authentication for the TCP listener (the unix socket's 0600 mode is its own
// guard). Both sides are hashed before a constant-time comparison, so neither the token's
// content nor its length leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A check of an Authorization header against the token: true only for `Bearer <token>`. */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  if (token === '') throw new RangeError('an API token must not be empty');
  const expected = digest(token);
  return (authorization) => {
    const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    // Hash something even when the header is malformed, so every refusal takes the same time.
    const given = digest(m?.[1] ?? '');
    return timingSafeEqual(given, expected) && m !== null;
  };
}
