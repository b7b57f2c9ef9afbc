/** Discovery (OIDC Discovery §4) and the JWKS (RFC 7517 §5), both cacheable and open to any origin. */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { ISSUER_PATHS, matchesIfNoneMatch } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { providerMetadata } from '../protocol/discovery.js';
import type { Env } from '../http/env.js';

export function metadataRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  const openToAnyOrigin = cors({ origin: '*', allowMethods: ['GET'], exposeHeaders: ['ETag'], maxAge: 600 });
  app.use(ISSUER_PATHS.discovery, openToAnyOrigin);
  app.use(ISSUER_PATHS.jwks, openToAnyOrigin);

  app.get(ISSUER_PATHS.discovery, function discovery(c) {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(providerMetadata(ctx.config.issuer, ctx.keys.algorithms));
  });

  app.get(ISSUER_PATHS.jwks, function jwks(c) {
    const { body, etag } = ctx.keys.jwks;
    c.header('Cache-Control', `public, max-age=${ctx.config.jwksMaxAge}`);
    c.header('ETag', etag);
    // RFC 9110 §13.1.2: a matching If-None-Match answers 304 with no body.
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    c.header('Content-Type', 'application/jwk-set+json');
    return c.body(body);
  });
  return app;
}
