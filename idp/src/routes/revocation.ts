/** The revocation endpoint (RFC 7009). */
import { Hono } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { authenticateClient } from '../protocol/client-auth.js';
import { revokeToken } from '../protocol/token-revocation.js';
import { openToAnyOrigin } from '../http/any-origin.js';
import { requestContext } from '../http/request-context.js';

export function revocationRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // RFC 7009 §2.2.1: errors as at the token endpoint (RFC 6749 §5.2).
  app.onError(tokenEndpointErrors);
  // Browser apps (public clients) revoke their own tokens at sign-out.
  app.use(
    ISSUER_PATHS.revocation,
    openToAnyOrigin({ allowMethods: ['POST'], allowHeaders: ['Content-Type', 'Authorization'] }),
  );

  app.post(ISSUER_PATHS.revocation, async function revocationEndpoint(c) {
    noStore(c);
    const params = await readForm(c);
    const client = await authenticateClient(requestContext(c, ctx), c.req.header('authorization'), params);
    const token = params.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    await revokeToken(ctx, client, token);
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    return c.body(null, 200);
  });
  return app;
}
