/**
 * A cookie-jar HTTP client for tests: it keeps cookies per host the way a browser would
 * (Path, Max-Age, Expires, HttpOnly ignored) and can follow redirects one hop at a time,
 * so a test can walk an OpenID Connect flow and look at every response on the way.
 */

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expires?: number;
}

export interface CookieJarClient {
  /** fetch with this jar's cookies; redirects are not followed (use `follow`). */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** Follows redirects from `url` until a non-redirect answer or `stopWhen` says stop; returns every hop. */
  follow(
    url: string | URL,
    init?: RequestInit & { stopWhen?: (location: URL) => boolean; maxHops?: number },
  ): Promise<{ responses: Response[]; last: Response; location?: URL }>;
  /** The value of a cookie for `url`'s host, if set. */
  cookie(url: string | URL, name: string): string | undefined;
  /** Sets a cookie by hand (for fixation tests). */
  setCookie(url: string | URL, name: string, value: string): void;
  clear(): void;
}

/** Creates an empty jar; `fetchImpl` defaults to the global fetch. */
export function createCookieJarClient(fetchImpl: typeof fetch = fetch): CookieJarClient {
  let jar: StoredCookie[] = [];

  const store = (url: URL, header: string) => {
    const [pair, ...attrs] = header.split(';');
    const eq = pair!.indexOf('=');
    if (eq < 1) return;
    const c: StoredCookie = {
      name: pair!.slice(0, eq).trim(),
      value: pair!.slice(eq + 1).trim(),
      host: url.hostname,
      path: '/',
    };
    for (const a of attrs) {
      const [k, v = ''] = a.split('=');
      const key = k!.trim().toLowerCase();
      if (key === 'path') c.path = v.trim() || '/';
      if (key === 'max-age') c.expires = Date.now() + Number(v) * 1000;
      if (key === 'expires' && c.expires === undefined) c.expires = Date.parse(v);
    }
    jar = jar.filter((x) => !(x.name === c.name && x.host === c.host && x.path === c.path));
    if (c.expires === undefined || c.expires > Date.now()) jar.push(c);
  };

  const header = (url: URL) =>
    jar
      .filter(
        (c) =>
          c.host === url.hostname &&
          url.pathname.startsWith(c.path) &&
          (c.expires === undefined || c.expires > Date.now()),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');

  const client: CookieJarClient = {
    async fetch(input, init = {}) {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      const cookies = header(url);
      if (cookies) headers.set('cookie', cookies);
      const res = await fetchImpl(url, { ...init, headers, redirect: 'manual' });
      for (const sc of res.headers.getSetCookie()) store(url, sc);
      return res;
    },
    async follow(input, init = {}) {
      const { stopWhen, maxHops = 10, ...rest } = init;
      const responses: Response[] = [];
      let url = new URL(input);
      let req: RequestInit = rest;
      for (let hop = 0; hop <= maxHops; hop++) {
        const res = await client.fetch(url, req);
        responses.push(res);
        const loc = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || !loc) return { responses, last: res };
        const next = new URL(loc, url);
        if (stopWhen?.(next)) return { responses, last: res, location: next };
        await res.arrayBuffer();
        url = next;
        req = {};
      }
      throw new Error('too many redirects');
    },
    cookie(input, name) {
      const url = new URL(input);
      return jar.find((c) => c.host === url.hostname && c.name === name)?.value;
    },
    setCookie(input, name, value) {
      store(new URL(input), `${name}=${value}; Path=/`);
    },
    clear() {
      jar = [];
    },
  };
  return client;
}

/** Reads the value of a hidden or text input named `name` from an HTML form. */
export function formValue(html: string, name: string): string | undefined {
  const m =
    new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html) ??
    new RegExp(`<input[^>]*value="([^"]*)"[^>]*name="${name}"`).exec(html);
  return m?.[1]
    ?.replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}
