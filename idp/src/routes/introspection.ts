/** The introspection endpoint (RFC 7662), for resource servers that are confidential clients. */
import { Hono } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { InvalidClientError, authenticateClient } from '../protocol/client-auth.js';
import { introspectToken } from '../protocol/introspect.js';

export function introspectionRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // RFC 7662 §2.3: errors as at the token endpoint (RFC 6749 §5.2).
  app.onError(tokenEndpointErrors);
  app.post(ISSUER_PATHS.introspection, async function introspectionEndpoint(c) {
    noStore(c);
    const params = await readForm(c);
    const client = await authenticateClient(ctx, c.req.header('authorization'), params);
    // RFC 7662 §2.1: the caller must authenticate; a public client cannot.
    if (client.type !== 'confidential')
      throw new InvalidClientError('introspection requires a confidential client', false);
    const token = params.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    return c.json(await introspectToken(ctx, client, token));
  });
  return app;
}
