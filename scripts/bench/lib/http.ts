/**
 * The load generator's HTTP side: a keep-alive node:http client (lighter than fetch, so the
 * generator takes less of the CPU the server under test shares with it) and a per-user cookie
 * jar, enough for a browser's round trips through an issuer.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One server's connection pool, counting the requests it sends. */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  requests = 0;
  constructor(readonly origin: string) {}

  send(
    path: string,
    options: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Reply> {
    this.requests++;
    const body = options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.origin),
        { method: options.method ?? 'GET', headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // A server that stops answering fails the run instead of hanging it.
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`no answer to ${path} in ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.end(body);
    });
  }

  /** A form POST (application/x-www-form-urlencoded). */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  close(): void {
    this.agent.destroy();
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
