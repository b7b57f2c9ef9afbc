/** The token endpoint (RFC 6749 §3.2): JSON out, never cached, errors per §5.2. */
import { Hono } from 'hono';
import { DEVICE_CODE_GRANT_TYPE, ISSUER_PATHS, OAuthError, TOKEN_EXCHANGE_GRANT_TYPE } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { openToAnyOrigin } from '../http/any-origin.js';
import { noStore } from '../http/cache-control.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { authenticateClient } from '../protocol/client-auth.js';
import { issueDPoPNonce, tokenRequestKey } from '../protocol/dpop.js';
import { redeemAuthorizationCode } from '../protocol/grant-authorization-code.js';
import { grantClientCredentials } from '../protocol/grant-client-credentials.js';
import { exchangeToken } from '../protocol/grant-token-exchange.js';
import { redeemDeviceCode } from '../protocol/grant-device-code.js';
import { redeemRefreshToken } from '../protocol/grant-refresh-token.js';
import type { Params } from '../protocol/params.js';
import type { Client } from '../store/index.js';

type Grant = (
  ctx: IssuerContext,
  client: Client,
  params: Params,
  ip: () => string,
  jkt: string | undefined,
) => Promise<object>;

/** The grant types the token endpoint serves, each with what redeems it. */
const GRANTS = new Map<string, Grant>([
  ['authorization_code', (ctx, client, params, _ip, jkt) => redeemAuthorizationCode(ctx, client, params, jkt)],
  ['refresh_token', (ctx, client, params, ip, jkt) => redeemRefreshToken(ctx, client, params, ip(), jkt)],
  ['client_credentials', (ctx, client, params, _ip, jkt) => grantClientCredentials(ctx, client, params, jkt)],
  [DEVICE_CODE_GRANT_TYPE, (ctx, client, params, ip, jkt) => redeemDeviceCode(ctx, client, params, ip(), jkt)],
  [TOKEN_EXCHANGE_GRANT_TYPE, (ctx, client, params, ip, jkt) => exchangeToken(ctx, client, params, ip(), jkt)],
]);

export function tokenRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(tokenEndpointErrors);
  // Browser apps (public clients) redeem their codes from their own origin.
  app.use(
    ISSUER_PATHS.token,
    openToAnyOrigin({
      allowMethods: ['POST'],
      // RFC 9449: a browser app sends its DPoP proof and reads the nonce it is given.
      allowHeaders: ['Content-Type', 'Authorization', 'DPoP'],
      exposeHeaders: ['DPoP-Nonce'],
    }),
  );
  app.post(ISSUER_PATHS.token, async function tokenEndpoint(c) {
    noStore(c);
    const params = await readForm(c);
    const client = await authenticateClient(requestContext(c, ctx), c.req.header('authorization'), params);
    const grantType = params.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    const jkt = await tokenRequestKey(ctx, c.req.header('dpop'), client);
    // RFC 9449 §8: a fresh nonce with every answer to a proof, for the client's next one.
    if (jkt !== undefined) c.header('DPoP-Nonce', issueDPoPNonce(ctx.config, ctx.clock.now()));
    const ip = () => deviceOf(c, ctx.config).ip;
    const grant = GRANTS.get(grantType);
    if (grant === undefined)
      throw new OAuthError('unsupported_grant_type', `grant_type ${grantType.slice(0, 64)} is not supported`);
    const response = await grant(ctx, client, params, ip, jkt);
    // Counted by the fixed name the table knows, never the client's string: bounded label values.
    ctx.metrics.tokensIssued.inc({ grant_type: grantType });
    return c.json(response);
  });
  return app;
}
