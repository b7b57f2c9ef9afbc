/** The introspection endpoint (RFC 7662), for resource servers that are confidential clients. */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { authenticateClient } from '../protocol/client-auth.js';
import { introspectToken } from '../protocol/introspect.js';

export function introspectionRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // RFC 7662 §2.3: errors as at the token endpoint (RFC 6749 §5.2).
  app.onError(tokenEndpointErrors);
  app.post(ISSUER_PATHS.introspection, async function introspectionEndpoint(c) {
    noStore(c);
    const params = await readForm(c);
    const client = await authenticateClient(requestContext(c, ctx), c.req.header('authorization'), params);
    return c.json(await introspectToken(ctx, client, params.get('token')));
  });
  return app;
}
