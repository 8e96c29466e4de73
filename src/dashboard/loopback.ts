// The dashboard's own listeners (momd --dashboard, momctl dashboard) print their token in the URL,
// so they listen on a loopback address only; anything else is refused with the way to do it.

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why `host` is refused, or null when it is a loopback address. */
export function notLoopback(host: string): string | null {
  return isLoopback(host)
    ? null
    : `${host} is not a loopback address: the dashboard's URL carries its token, so it listens on 127.0.0.1, ::1 or localhost only; for other addresses set api-listen and api-token-file`;
}
