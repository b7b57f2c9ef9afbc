/** Reading form posts and telling where they come from. */
import type { Context } from 'hono';
import { MalformedRequestError, parseUrlencoded } from '@tessera/shared';

/**
 * An application/x-www-form-urlencoded body, or undefined when the body is something else.
 * Malformed encoding, too many or too long parameters, or a repeated one: MalformedRequestError.
 */
export async function readForm(c: Context): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '')) return undefined;
  return refuseDuplicates(parseUrlencoded(new Uint8Array(await c.req.arrayBuffer())));
}

/** Refuses a parameter sent more than once (RFC 6749 §3.1, applied to our own forms too). */
function refuseDuplicates(params: URLSearchParams): URLSearchParams {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) throw new MalformedRequestError('a parameter is included more than once');
    seen.add(name);
  }
  return params;
}

/**
 * Whether a state-changing request comes from one of our own pages (OWASP CSRF Prevention:
 * verify the origin with standard headers). Browsers send `Origin` on every POST; without it,
 * `Sec-Fetch-Site` decides; a client that sends neither is no browser and still needs the token.
 * The same rule as the issuer's (idp/src/http/same-origin.ts isSameOriginForm).
 */
export function isSameOrigin(c: Context, appOrigin: string): boolean {
  const origin = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  if (origin !== undefined && origin !== 'null') return origin === appOrigin;
  // Our Referrer-Policy: no-referrer makes browsers send `Origin: null` even on same-origin POSTs
  // (Fetch, "append a request Origin header"); Sec-Fetch-Site still tells. A sandboxed frame or a
  // cross-site form sends "null" with cross-site, and is refused.
  if (origin === 'null') return site === 'same-origin';
  return site === undefined || site === 'same-origin' || site === 'none';
}
