/**
 * App B's API: stateless. Each request carries an RFC 9068 access token — `Authorization: Bearer`,
 * or `Authorization: DPoP` with a proof for a token bound to the caller's key (RFC 9449), as app
 * B's own browser code sends it; the API checks it itself with the issuer's public keys, and asks
 * nobody per request.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { ACR_MFA, requireBearer, requireUserAuthentication, type AccessTokenEnv } from '@tessera/shared';
import { nodeDPoPCrypto } from '@tessera/shared/node';
import type { AppContext } from '../context.js';

/**
 * RFC 6750 §3.1 leaves the body of a 401 without credentials open, and requireBearer sends none;
 * the API's callers are scripts, so they get JSON like every other answer of the API.
 */
function withJsonBody(bearer: MiddlewareHandler<AccessTokenEnv>): MiddlewareHandler<AccessTokenEnv> {
  return async function requireBearerJson(c, next) {
    const response = await bearer(c, next);
    if (response instanceof Response && response.status === 401 && response.body === null) {
      return c.json({ error: 'unauthenticated' }, 401, {
        'WWW-Authenticate': response.headers.get('WWW-Authenticate') ?? 'Bearer',
      });
    }
    return response;
  };
}

export function apiRoutes(ctx: AppContext): Hono<AccessTokenEnv> {
  const { config } = ctx;
  const app = new Hono<AccessTokenEnv>();

  app.use('/api/*', async function noStore(c, next) {
    await next();
    c.header('Cache-Control', 'no-store'); // RFC 6750 §5.3: answers about a token's bearer are not cached
  });
  app.use(
    '/api/*',
    withJsonBody(
      requireBearer({
        issuer: config.issuer,
        // RFC 9068 §4, RFC 8707: only tokens issued for app B's API, whichever client asked for them.
        audience: config.appUrl,
        keySet: ctx.issuer.keySet,
        now: () => ctx.clock.now(),
        clockToleranceSec: config.clockToleranceSec,
        // RFC 9449 §7: the browser app's tokens are bound to its key; each proof is taken once, by
        // every process of app B (the used jtis are kept with the used logout-token jtis, apart).
        dpop: {
          crypto: nodeDPoPCrypto,
          jtiStore: { consume: (jti, expiresAtSec) => ctx.jtiStore.consume(`dpop.${jti}`, expiresAtSec) },
        },
        // Back-channel logout reaches a stateless API through this hook (see revoked-sessions.ts).
        isRevoked: (claims) => ctx.revoked.isRevoked(claims),
        // …and the token status list reaches it even when no back-channel logout does.
        ...(ctx.statusLists ? { statusLists: ctx.statusLists } : {}),
        // Still the RFC 6750 §3.1 invalid_token answer; a token from the future also tells the monitor,
        // which logs `clock.skew` when the issuer's clock is past the leeway.
        onError: (error) => {
          ctx.log.info('api.token_refused', { code: error.code });
          ctx.clockSkew.observeRefusal(error);
        },
      }),
    ),
  );

  // Who the token is about, which client it was issued to, and who acts for the person (RFC 8693
  // §4.1 `act`: a server that got the token by exchange, e.g. app A's), or null when the person's
  // own client calls.
  app.get('/api/me', function me(c) {
    const token = c.get('accessToken');
    return c.json({
      sub: token.sub,
      email: token.email ?? null,
      name: token.name ?? null,
      client_id: token.client_id,
      act: token.act ?? null,
    });
  });

  // How the person signed in, as the issuer stated it in the token: a page about account security
  // needs a second factor, so a password-only token is asked to step up (RFC 9470 §3) while the
  // rest of the API takes it.
  app.get(
    '/api/security',
    requireUserAuthentication({
      acr: ACR_MFA,
      now: () => ctx.clock.now(),
      clockToleranceSec: config.clockToleranceSec,
    }),
    function security(c) {
      const token = c.get('accessToken');
      return c.json({
        sub: token.sub,
        acr: token.acr ?? null,
        amr: token.amr ?? [],
        auth_time: token.auth_time ?? null,
        client_id: token.client_id,
      });
    },
  );
  return app;
}
