/**
 * POST `/backchannel-logout`: the issuer tells app A that an SSO session ended (OIDC Back-Channel
 * Logout 1.0 §2.5–2.8), server to server. No cookie, no CSRF token: the signed logout token is
 * the whole authority. The endpoint is the shared kit's; ending app A's sessions is what is ours.
 */
import { Hono } from 'hono';
import { MalformedRequestError, backchannelLogout } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { readForm } from '../http/forms.js';
import { describeError } from '@tessera/shared';

export function backchannelLogoutRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  app.post(
    '/backchannel-logout',
    backchannelLogout({
      issuer: config.issuer,
      audience: config.clientId,
      keySet: ctx.issuer.keySet,
      jtiStore: ctx.jtiStore,
      now: () => ctx.clock.now(),
      // A malformed or repeated parameter is refused like a missing one (http/forms.ts): a plain
      // 400 invalid_request, as for any other unusable request to this endpoint.
      readForm: (c) =>
        readForm(c).catch((error: unknown) => {
          if (error instanceof MalformedRequestError) return undefined;
          throw error;
        }),
      onError: (error) => ctx.log.warn('backchannel_logout.refused', describeError(error)),
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
