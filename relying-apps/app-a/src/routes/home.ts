/**
 * GET `/`: who is signed in, what app B's API says about them when app A calls it for them, and a
 * sign-out form; or a sign-in link.
 */
import { Hono } from 'hono';
import { renderPage, safeEqual } from '@tessera/shared/node';
import { askAppB } from '../app-b-api.js';
import type { AppContext } from '../context.js';
import { clearCookie, readCookie } from '../http/cookies.js';
import { homePage } from '../views/pages.js';
import { currentSession } from './current-session.js';

export function homeRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/', async function home(c) {
    const session = await currentSession(c, ctx);
    // Back from the issuer's end-session endpoint: the state we sent comes back (RP-Initiated
    // Logout §3), so the notice is shown only after a sign-out this browser asked for.
    let notice: string | undefined;
    const expected = readCookie(c, ctx.cookies.logout);
    if (expected !== undefined) {
      const state = c.req.query('state');
      if (state !== undefined && safeEqual(state, expected)) notice = 'You have signed out.';
      clearCookie(c, ctx.config.appUrl, ctx.cookies.logout);
    }
    // Asked on every visit, so the page shows what app B says now (a sign-out elsewhere shows at once).
    const fromAppB = session === undefined ? undefined : await askAppB(ctx, session);
    return renderPage(c, () => homePage(session, notice, fromAppB));
  });
  return app;
}
