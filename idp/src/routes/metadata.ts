/**
 * Discovery (OIDC Discovery §4) and the JWKS (RFC 7517 §5), both cacheable and open to any origin.
 * Plain GET and HEAD requests for them are answered before the app (http/published-documents.ts),
 * from the same documents; these routes answer the rest (a query string, a CORS preflight).
 */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS, matchesIfNoneMatch } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import {
  OPEN_TO_ANY_ORIGIN,
  discoveryDocument,
  jwksDocument,
  type PublishedDocument,
} from '../http/published-documents.js';
import type { Env } from '../http/env.js';
import { openToAnyOrigin } from '../http/any-origin.js';

function answer(c: Context<Env>, { body, contentType, cacheControl, etag }: PublishedDocument) {
  c.header('Cache-Control', cacheControl);
  if (etag !== undefined) {
    c.header('ETag', etag);
    // RFC 9110 §13.1.2: a matching If-None-Match answers 304 with no body.
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
  }
  c.header('Content-Type', contentType);
  return c.body(body);
}

export function metadataRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  const anyOrigin = openToAnyOrigin({ exposeHeaders: [...OPEN_TO_ANY_ORIGIN.exposeHeaders], allowMethods: ['GET'] });
  app.use(ISSUER_PATHS.discovery, anyOrigin);
  app.use(ISSUER_PATHS.jwks, anyOrigin);
  app.get(ISSUER_PATHS.discovery, async (c) => answer(c, await discoveryDocument(ctx)));
  app.get(ISSUER_PATHS.jwks, async (c) => answer(c, await jwksDocument(ctx)));
  return app;
}
