/**
 * The load generator's HTTP side: a keep-alive client on undici's connection pool, and a per-user
 * cookie jar, enough for a browser's round trips through an issuer. The generator shares the
 * machine's cores with the server under test, so the lighter its client the more of them the
 * server gets: undici's pool costs about a third of the CPU per request of node:http's client
 * (33–35 against 67–91 µs per GET of a small JSON body here), which on a static document is the
 * difference between measuring the generator and measuring the server.
 */
import { Pool } from 'undici';

export interface Reply {
  status: number;
  /** Lower-case names; `set-cookie` always a list, as node:http gives it. */
  headers: Record<string, string | undefined> & { 'set-cookie'?: string[] };
  body: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One server's connection pool, counting the requests it sends. */
export class HttpClient {
  private readonly pool: Pool;
  requests = 0;
  constructor(readonly origin: string) {
    // One request per connection at a time (no pipelining), as a browser sends them; a server that
    // stops answering fails the run instead of hanging it.
    this.pool = new Pool(origin, {
      connections: 64,
      pipelining: 1,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
  }

  async send(
    path: string,
    options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    this.requests++;
    const res = await this.pool.request({
      path,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      body: options.body ?? null,
    });
    const headers: Reply['headers'] = {};
    for (const [name, value] of Object.entries(res.headers)) {
      const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
      if (name === 'set-cookie') headers['set-cookie'] = values;
      else headers[name] = values.join(', ');
    }
    return { status: res.statusCode, headers, body: await res.body.text() };
  }

  /** A form POST (application/x-www-form-urlencoded). */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }
}

/** A browser's cookies for one origin. Paths are ignored: the issuers here never reuse a name across paths. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  set(name: string, value: string): this {
    this.cookies.set(name, value);
    return this;
  }

  /** The Cookie header, or no header at all when the jar is empty. */
  header(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  take(reply: Reply): void {
    for (const line of reply.headers['set-cookie'] ?? []) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** A reply that was not what the scenario expects: counted as an error, with what came back. */
export class UnexpectedReply extends Error {
  constructor(what: string, reply: Reply) {
    super(`${what}: answered ${reply.status} ${reply.body.slice(0, 200)}`);
    this.name = 'UnexpectedReply';
  }
}

/** Expects one of `statuses`; returns the reply. */
export function expect(what: string, reply: Reply, ...statuses: number[]): Reply {
  if (!statuses.includes(reply.status)) throw new UnexpectedReply(what, reply);
  return reply;
}

/** The Location of a redirect, resolved against `origin`. */
export function location(what: string, reply: Reply, origin: string): URL {
  if (reply.status < 300 || reply.status > 399 || !reply.headers.location) throw new UnexpectedReply(what, reply);
  return new URL(reply.headers.location, origin);
}
