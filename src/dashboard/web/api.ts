// The page's only way to momd: the control API, with the token in an Authorization header on
// every request. The token comes from the URL's fragment (after '#', which the browser never
// sends to a server) or from the login form, and is kept for the tab's session only.

const KEY = 'momd-token';

export class Unauthorized extends Error {}

export function takeToken(): string | null {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m?.[1] !== undefined) {
    const token = decodeURIComponent(m[1]);
    sessionStorage.setItem(KEY, token);
    // The token leaves the address bar (and the history) at once.
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

export class Api {
  constructor(private readonly token: string | null) {}

  get hasToken(): boolean {
    return this.token !== null;
  }

  private headers(): HeadersInit {
    return this.token === null ? {} : { authorization: `Bearer ${this.token}` };
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: this.headers(), cache: 'no-store' });
    if (res.status === 401) throw new Unauthorized('unauthorized');
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /**
   * Follows the server-sent events of /v1/events (read with fetch, since EventSource cannot send
   * a header). Resolves when the stream ends; rejects on a network error or a refusal.
   */
  async stream(onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
    const res = await fetch('/v1/events', { headers: this.headers(), cache: 'no-store', signal });
    if (res.status === 401) throw new Unauthorized('unauthorized');
    if (!res.ok || res.body === null) throw new Error(`/v1/events: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
      }
    }
  }
}
