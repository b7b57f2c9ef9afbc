/**
 * POST `/backchannel-logout`: the issuer tells app B that an SSO session ended (OIDC Back-Channel
 * Logout 1.0 §2.5–2.8). App B keeps no sessions; it remembers the ended session so that its API
 * refuses that session's access tokens, which would otherwise stay valid until they expire.
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
      // §2.7: with sid, that issuer session; with only sub, every session of the subject.
      // Answered 200 only once it is kept: a store that failed makes a 500, which the issuer retries.
      onLogout: async (claims) => {
        if (claims.sid !== undefined) await ctx.revoked.revokeSession(claims.sid);
        else await ctx.revoked.revokeSubject(claims.sub!);
        ctx.log.info('backchannel_logout', { sid: claims.sid, sub: claims.sub });
      },
    }),
  );
  return app;
}
