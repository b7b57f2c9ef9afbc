/**
 * Server-side HTTP that reaches `*.localhost` sites. Browsers resolve `localhost` and every
 * `*.localhost` name to loopback (RFC 6761 §6.3); Node's resolver asks DNS, which knows nothing of
 * `app-a.localhost`. Node's global fetch cannot be given a resolver without the undici package, so
 * this is a small fetch over node:http / node:https with a `lookup` that answers loopback names
 * itself and passes every other name to the system resolver.
 *
 * Node-only: import it from `@tessera/shared`'s `src/node.ts`, never from browser code.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FetchLike } from './fetch-like.js';

/** Tuning of {@link createLoopbackFetch}. */
export interface LoopbackFetchOptions {
  /** The address `localhost` and `*.localhost` resolve to (default `127.0.0.1`). */
  loopbackAddress?: string;
  /** Most redirects followed when `redirect` is `follow` (default 20, as in the Fetch standard). */
  maxRedirects?: number;
  /** TLS options for https (a private CA for a development issuer, say). */
  tls?: Pick<https.AgentOptions, 'ca' | 'rejectUnauthorized'>;
}

/** Whether `hostname` is `localhost` or a name under it (RFC 6761 §6.3), with or without the root dot. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

function loopbackLookup(address: string): net.LookupFunction {
  const family = net.isIP(address);
  if (family === 0) throw new TypeError('loopbackAddress must be an IP address');
  return function lookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
    if (!isLoopbackHostname(hostname)) {
      dns.lookup(
        hostname,
        options,
        callback as (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family: number) => void,
      );
      return;
    }
    // net asks for every address at once when it races IPv4 and IPv6 (autoSelectFamily).
    if (options.all === true) process.nextTick(callback, null, [{ address, family }]);
    else process.nextTick(callback, null, address, family);
  } as net.LookupFunction;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// RFC 9110 §9.2.2: a request that may be sent twice with the effect of once.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
// Fetch standard: statuses whose response has no body.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
// Fetch standard, HTTP-redirect fetch step 11.
const REQUEST_BODY_HEADERS = [
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
  'content-length',
];

interface Outgoing {
  url: URL;
  method: string;
  headers: Headers;
  body: Uint8Array | undefined;
  signal: AbortSignal;
}

function decoded(response: http.IncomingMessage): Readable {
  // fetch decodes content codings for the caller; so must we, when a server applies one.
  switch (response.headers['content-encoding']?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return response.pipe(zlib.createGunzip());
    case 'deflate':
      return response.pipe(zlib.createInflate());
    case 'br':
      return response.pipe(zlib.createBrotliDecompress());
    default:
      return response;
  }
}

/**
 * A `fetch`-compatible function (string, URL or Request in; Response out) that resolves
 * `localhost` and `*.localhost` to the loopback address, keeping the original name in the `Host`
 * header (and in TLS SNI), and resolves every other name as usual. Supports methods, headers,
 * bodies (string, URLSearchParams, Uint8Array, anything `Request` accepts), `signal`, `redirect`
 * and gzip/deflate/br responses; connections are kept alive.
 *
 * @example
 * ```ts
 * import { createLoopbackFetch } from '@tessera/shared/node';
 * const fetch = createLoopbackFetch();
 * const keySet = createRemoteKeySet('http://idp.localhost:4000/jwks', { fetch });
 * const tokens = await exchangeCode({ ...options, fetch });
 * ```
 */
export function createLoopbackFetch(options: LoopbackFetchOptions = {}): FetchLike {
  const lookup = loopbackLookup(options.loopbackAddress ?? '127.0.0.1');
  const maxRedirects = options.maxRedirects ?? 20;
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) throw new TypeError('maxRedirects must be an integer >= 0');
  // Agent options reach net.connect / tls.connect, so every pooled socket uses our lookup.
  const httpAgent = new http.Agent({ keepAlive: true, lookup } as http.AgentOptions);
  const httpsAgent = new https.Agent({ keepAlive: true, lookup, ...options.tls } as https.AgentOptions);

  const send = (outgoing: Outgoing): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const { url, method, headers, body, signal } = outgoing;
      const isHttps = url.protocol === 'https:';
      const requestHeaders: http.OutgoingHttpHeaders = {};
      headers.forEach((value, name) => {
        requestHeaders[name] = value;
      });
      if (body !== undefined) requestHeaders['content-length'] = String(body.byteLength);

      // Only a request that got no answer at all is sent again.
      let responded = false;
      const request = (isHttps ? https : http).request(
        url,
        { method, headers: requestHeaders, agent: isHttps ? httpsAgent : httpAgent, signal },
        (response) => {
          responded = true;
          try {
            const status = response.statusCode ?? 0;
            const responseHeaders = new Headers();
            const raw = response.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
            const hasBody = method !== 'HEAD' && !NULL_BODY_STATUSES.has(status);
            if (!hasBody) response.resume();
            const stream = hasBody
              ? (Readable.toWeb(decoded(response)) as unknown as ReadableStream<Uint8Array>)
              : null;
            const result = new Response(stream, {
              status,
              statusText: response.statusMessage ?? '',
              headers: responseHeaders,
            });
            Object.defineProperty(result, 'url', { value: url.href });
            resolve(result);
          } catch (error) {
            response.destroy();
            reject(error);
          }
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) reject(signal.reason);
        else if (!responded && request.reusedSocket && error.code === 'ECONNRESET' && IDEMPOTENT.has(method)) {
          // A kept-alive socket the server closed as we reused it: the request never reached the
          // server, so an idempotent one is sent again on a fresh socket (node:http docs,
          // request.reusedSocket; RFC 9110 §9.2.2).
          resolve(send(outgoing));
        } else reject(new TypeError('fetch failed', { cause: error }));
      });
      request.end(body);
    });

  return async function loopbackFetch(input, init) {
    // Request normalizes every accepted input and body type (and content-type defaults) for us.
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`fetch failed: unsupported scheme ${url.protocol}`);
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    let outgoing: Outgoing = {
      url,
      method: request.method,
      headers: new Headers(request.headers),
      body,
      signal: request.signal,
    };

    for (let redirects = 0; ; redirects++) {
      const response = await send(outgoing);
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null || request.redirect === 'manual') {
        if (redirects > 0) Object.defineProperty(response, 'redirected', { value: true });
        return response;
      }
      await response.body?.cancel();
      if (request.redirect === 'error') throw new TypeError('fetch failed: redirect refused (redirect: "error")');
      if (redirects >= maxRedirects) throw new TypeError('fetch failed: too many redirects');

      const next = new URL(location, outgoing.url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw new TypeError(`fetch failed: redirect to ${next.protocol}`);
      const headers = new Headers(outgoing.headers);
      let { method, body: nextBody } = outgoing;
      // Fetch standard, HTTP-redirect fetch: 301/302 turn POST into GET, 303 turns all but HEAD into GET.
      if (
        ((response.status === 301 || response.status === 302) && method === 'POST') ||
        (response.status === 303 && method !== 'HEAD' && method !== 'GET')
      ) {
        method = 'GET';
        nextBody = undefined;
        for (const name of REQUEST_BODY_HEADERS) headers.delete(name);
      }
      // Credentials stay with the origin they were meant for.
      if (next.origin !== outgoing.url.origin) {
        headers.delete('authorization');
        headers.delete('cookie');
        headers.delete('proxy-authorization');
      }
      outgoing = { url: next, method, headers, body: nextBody, signal: outgoing.signal };
    }
  };
}
