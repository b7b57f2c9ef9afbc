/**
 * POST `/backchannel-logout`: the issuer tells app A that an SSO session ended (OIDC Back-Channel
 * Logout 1.0 §2.5–2.8), server to server. No cookie, no CSRF token: the signed logout token is
 * the whole authority.
 */
import { Hono, type Context } from 'hono';
import { MalformedRequestError, TokenVerificationError, verifyLogoutToken } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { readForm } from '../http/forms.js';
import { describeError } from '../log.js';

export function backchannelLogoutRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  // §2.8: every answer carries Cache-Control: no-store.
  const refuse = (c: Context) => c.json({ error: 'invalid_request' }, 400, { 'Cache-Control': 'no-store' });

  app.post('/backchannel-logout', async function backchannelLogout(c) {
    // §2.5: application/x-www-form-urlencoded, one logout_token parameter.
    // A malformed or repeated parameter is refused like a missing one (http/forms.ts).
    const form = await readForm(c).catch((error: unknown) => {
      if (error instanceof MalformedRequestError) return undefined;
      throw error;
    });
    const tokens = form?.getAll('logout_token') ?? [];
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

    // §2.7: with sid, the sessions of that issuer session; with only sub, every session of the subject.
    const ended =
      claims.sid !== undefined ? await ctx.sessions.endByIssuerSession(claims.sid, claims.sub) : await ctx.sessions.endBySubject(claims.sub!);
    ctx.log.info('backchannel_logout', { sid: claims.sid, sub: claims.sub, sessions_ended: ended });
    // §2.8: 200 even when no session matched (it may have ended here already).
    return c.body(null, 200, { 'Cache-Control': 'no-store' });
  });
  return app;
}
