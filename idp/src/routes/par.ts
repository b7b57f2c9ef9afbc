/**
 * The pushed authorization request endpoint (RFC 9126 §2): POST only, the client authenticated as
 * at the token endpoint, 201 with the request_uri, errors as the token endpoint's (§2.3), never cached.
 */
import { Hono } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { openToAnyOrigin } from '../http/any-origin.js';
import { noStore } from '../http/cache-control.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { authenticateClient } from '../protocol/client-auth.js';
import { pushAuthorizationRequest } from '../protocol/pushed-authorization-request.js';

export function pushedAuthorizationRequestRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(tokenEndpointErrors);
  const path = ISSUER_PATHS.pushedAuthorizationRequest;
  // Browser apps (public clients) push from their own origin, as they redeem their codes.
  app.use(path, openToAnyOrigin({ allowMethods: ['POST'], allowHeaders: ['Content-Type', 'Authorization'] }));
  app.post(path, async function pushedAuthorizationRequestEndpoint(c) {
    noStore(c);
    const params = await readForm(c);
    const client = await authenticateClient(requestContext(c, ctx), c.req.header('authorization'), params);
    return c.json(await pushAuthorizationRequest(ctx, client, params), 201);
  });
  // RFC 9126 §2.3: any other method is 405.
  app.on(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'], path, (c) => {
    c.header('Allow', 'POST');
    throw new OAuthError('invalid_request', 'the pushed authorization request endpoint takes POST only', {
      status: 405,
    });
  });
  return app;
}
