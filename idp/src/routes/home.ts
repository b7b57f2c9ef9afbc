/** The issuer's own home page: who is signed in on this browser. */
import { Hono } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { homePage } from '../views/pages.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';

export function homeRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/', async function home(c) {
    noStore(c);
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const user = session && (await ctx.store.users.findBySub(session.userId));
    return renderPage(c, () => homePage(user ? { displayName: user.displayName, email: user.email } : {}));
  });
  return app;
}
