/**
 * POST `/backchannel-logout`: the issuer tells app B that an SSO session ended (OIDC Back-Channel
 * Logout 1.0 §2.5–2.8). App B keeps no sessions; it remembers the ended session so that its API
 * refuses that session's access tokens, which would otherwise stay valid until they expire.
 */
import { Hono, type Context } from 'hono';
import { TokenVerificationError, parseUrlencoded, verifyLogoutToken } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { describeError } from '../log.js';

export function backchannelLogoutRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  // §2.8: every answer carries Cache-Control: no-store.
  const refuse = (c: Context) => c.json({ error: 'invalid_request' }, 400, { 'Cache-Control': 'no-store' });

  app.post('/backchannel-logout', async function backchannelLogout(c) {
    // §2.5: application/x-www-form-urlencoded, one logout_token parameter.
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '')) return refuse(c);
    // Strict: malformed encoding or oversized parameters are a 400 too (the shared parseUrlencoded).
    const tokens = parseUrlencoded(new Uint8Array(await c.req.arrayBuffer())).getAll('logout_token');
    if (tokens.length !== 1) return refuse(c);

    let claims;
    try {
      // §2.6: signature, iss, aud = our client_id, iat/exp, typ, events, no nonce, sub or sid, unused jti.
      ({ claims } = await verifyLogoutToken(tokens[0]!, {
        issuer: config.issuer,
        audience: config.clientId,
        keySet: ctx.issuer.keySet,
        jtiStore: ctx.jtiStore,
        now: () => ctx.clock.now(),
      }));
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      ctx.log.warn('backchannel_logout.refused', describeError(error));
      // Our own inability to check is not a bad token: a 5xx makes the issuer retry later.
      if (error.code === 'ERR_JWKS_UNAVAILABLE') {
        return c.json({ error: 'temporarily_unavailable' }, 503, { 'Cache-Control': 'no-store' });
      }
      return refuse(c);
    }

    // §2.7: with sid, that issuer session; with only sub, every session of the subject.
    if (claims.sid !== undefined) ctx.revoked.revokeSession(claims.sid);
    else ctx.revoked.revokeSubject(claims.sub!);
    ctx.log.info('backchannel_logout', { sid: claims.sid, sub: claims.sub });
    return c.body(null, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
