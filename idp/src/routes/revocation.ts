/** The revocation (RFC 7009) and introspection (RFC 7662) endpoints. */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { InvalidClientError, authenticateClient } from '../protocol/client-auth.js';
import { introspectToken } from '../protocol/introspect.js';
import { revokeToken } from '../protocol/token-revocation.js';
import { tokenErrorResponse } from './token.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';

export function revocationRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // Browser apps (public clients) revoke their own tokens at sign-out.
  app.use(
    '/revoke',
    cors({ origin: '*', allowMethods: ['POST'], allowHeaders: ['Content-Type', 'Authorization'], maxAge: 600 }),
  );

  app.post('/revoke', async function revocationEndpoint(c) {
    noStore(c);
    try {
      const params = await readForm(c);
      const client = await authenticateClient(ctx, c.req.header('authorization'), params);
      const token = params.get('token');
      if (!token) throw new OAuthError('invalid_request', 'token is required');
      await revokeToken(ctx, client, token);
      // RFC 7009 §2.2: 200 whether or not the token was valid.
      return c.body(null, 200);
    } catch (e) {
      if (e instanceof OAuthError) return tokenErrorResponse(c, e);
      throw e;
    }
  });

  app.post('/introspect', async function introspectionEndpoint(c) {
    noStore(c);
    try {
      const params = await readForm(c);
      const client = await authenticateClient(ctx, c.req.header('authorization'), params);
      // RFC 7662 §2.1: the caller must authenticate; a public client cannot.
      if (client.type !== 'confidential')
        throw new InvalidClientError('introspection requires a confidential client', false);
      const token = params.get('token');
      if (!token) throw new OAuthError('invalid_request', 'token is required');
      return c.json(await introspectToken(ctx, client, token));
    } catch (e) {
      if (e instanceof OAuthError) return tokenErrorResponse(c, e);
      throw e;
    }
  });
  return app;
}
