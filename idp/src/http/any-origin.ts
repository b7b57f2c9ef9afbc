/** CORS for endpoints open to any origin (Fetch standard, CORS protocol), without a cost per answer. */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Env } from './env.js';

/**
 * Hono's cors() for `origin: '*'`: a preflight (OPTIONS) is answered by cors() itself; any other
 * request gets the same `Access-Control-Allow-Origin: *` (no Vary: the answer does not depend on
 * Origin), set before the route answers. cors() sets it on `c.res` first, which makes Hono rebuild
 * the route's answer around it, its body turned into a stream the Node adapter must pipe.
 */
export function openToAnyOrigin(options: {
  allowMethods: string[];
  allowHeaders?: string[];
  /** Response header fields a script may read besides the CORS-safelisted ones (`ETag`, say). */
  exposeHeaders?: string[];
}): MiddlewareHandler<Env> {
  const preflight = cors({ origin: '*', ...options, maxAge: 600 });
  const exposed = options.exposeHeaders?.length ? options.exposeHeaders.join(',') : undefined;
  return function openToAnyOrigin(c, next) {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    c.header('Access-Control-Allow-Origin', '*');
    if (exposed !== undefined) c.header('Access-Control-Expose-Headers', exposed);
    return next();
  };
}
