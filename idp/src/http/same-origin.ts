/** The cross-site check every state-changing form of the issuer's own pages passes (OWASP CSRF Prevention). */
import type { Context } from 'hono';
import type { Config } from '../config/config.js';
import type { Env } from './env.js';

/**
 * A state-changing form must come from the issuer's own pages: checked by `Origin` and
 * `Sec-Fetch-Site` here, and by the CSRF token by the caller (OWASP CSRF Prevention).
 */
export function isSameOriginForm(c: Context<Env>, config: Config): boolean {
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== 'null') return origin === new URL(config.issuer).origin;
  // Our Referrer-Policy: no-referrer makes browsers send `Origin: null` even on same-origin POSTs
  // (Fetch, "append a request Origin header").
  if (origin === 'null') return c.req.header('sec-fetch-site') === 'same-origin';
  const site = c.req.header('sec-fetch-site');
  return site === undefined || site === 'same-origin' || site === 'none';
}
