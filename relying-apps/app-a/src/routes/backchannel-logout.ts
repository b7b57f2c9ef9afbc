/**
 * POST `/backchannel-logout`: the issuer tells app A that an SSO session ended (OIDC Back-Channel
 * Logout 1.0 §2.5–2.8), server to server. No cookie, no CSRF token: the signed logout token is
 * the whole authority. The endpoint is the shared kit's; ending app A's sessions is what is ours.
 */
import { Hono } from 'hono';
import { backchannelLogout, describeError } from '@tessera/shared';
import type { AppContext } from '../context.js';

export function backchannelLogoutRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  // The body is read strictly (the shared parseUrlencoded): malformed encoding or oversized
  // parameters are a MalformedRequestError, which the root handler answers with a 400.
  app.post(
    '/backchannel-logout',
    backchannelLogout({
      issuer: config.issuer,
      audience: config.clientId,
      keySet: ctx.issuer.keySet,
      jtiStore: ctx.jtiStore,
      now: () => ctx.clock.now(),
      clockToleranceSec: config.clockToleranceSec,
      onError: (error) => {
        ctx.log.warn('backchannel_logout.refused', describeError(error));
        ctx.clockSkew.observeRefusal(error);
      },
      // §2.7: with sid, the sessions of that issuer session; with only sub, every session of the subject.
      onLogout: async (claims) => {
        const ended =
          claims.sid !== undefined
            ? await ctx.sessions.endByIssuerSession(claims.sid, claims.sub)
            : await ctx.sessions.endBySubject(claims.sub!);
        ctx.log.info('backchannel_logout', { sid: claims.sid, sub: claims.sub, sessions_ended: ended });
      },
    }),
  );
  return app;
}
