/**
 * GET `/security`: app A's security settings, which need a second factor while its home page does
 * not. A session signed in with a password alone is sent back to the issuer for the missing factor
 * (`acr_values`, OIDC Core §3.1.2.1), and lands here again; the page then asks app B's step-up API,
 * which may ask for more still (RFC 9470): its challenge is answered the same way.
 */
import { Hono } from 'hono';
import { ACR_MFA, acrMeetsRequest, stepUpRequestOptions, type StepUpChallenge } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import { askAppBSecurity } from '../app-b-api.js';
import type { AppContext } from '../context.js';
import type { AppSession } from '../sessions/session-store.js';
import { securityPage } from '../views/pages.js';
import { currentSession } from './current-session.js';
import { startSignIn } from './start-sign-in.js';

const RETURN_TO = '/security';

/** Whether the session already meets a challenge: then a new sign-in cannot help, and is not started. */
function sessionMeets(session: AppSession, challenge: StepUpChallenge, nowSec: number, toleranceSec: number): boolean {
  if (!acrMeetsRequest(session.acr, challenge.acrValues)) return false;
  if (challenge.maxAgeSec === undefined) return true;
  return session.authTime !== undefined && session.authTime + challenge.maxAgeSec >= nowSec - toleranceSec;
}

export function securityRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get(RETURN_TO, async function security(c) {
    const session = await currentSession(c, ctx);
    if (session === undefined || !acrMeetsRequest(session.acr, [ACR_MFA])) {
      ctx.log.info('step_up.start', { sub: session?.sub, acr: session?.acr, acr_values: ACR_MFA });
      return startSignIn(c, ctx, { acrValues: [ACR_MFA], returnTo: RETURN_TO });
    }
    const fromAppB = await askAppBSecurity(ctx, session);
    if (fromAppB.kind === 'step_up') {
      const { challenge } = fromAppB;
      const nowSec = Math.floor(ctx.clock.now() / 1000);
      if (!sessionMeets(session, challenge, nowSec, ctx.config.clockToleranceSec)) {
        ctx.log.info('step_up.start', {
          sub: session.sub,
          acr: session.acr,
          acr_values: challenge.acrValues.join(' '),
        });
        return startSignIn(c, ctx, { ...stepUpRequestOptions(challenge), returnTo: RETURN_TO });
      }
      // App B asks for what this session has: another sign-in would come back to the same answer.
      ctx.log.warn('step_up.unmet_by_app_b', { sub: session.sub, acr: session.acr });
      return renderPage(c, () =>
        securityPage(session, {
          kind: 'failed',
          message: "App B's API still asks for a stronger sign-in than the one you just made.",
          code: 'insufficient_user_authentication',
          signInHelps: false,
        }),
      );
    }
    return renderPage(c, () => securityPage(session, fromAppB));
  });
  return app;
}
