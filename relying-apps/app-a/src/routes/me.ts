/** GET `/api/me`: the signed-in person as JSON, for scripts of app A's own pages. */
import { Hono } from 'hono';
import type { AppContext } from '../context.js';
import { currentSession } from './current-session.js';

export function meRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/api/me', async function me(c) {
    const session = await currentSession(c, ctx);
    // An API answers 401, never a redirect to the sign-in: a script cannot follow one usefully.
    if (session === undefined) return c.json({ error: 'unauthenticated' }, 401);
    return c.json({ sub: session.sub, email: session.email, name: session.name, sid: session.sid ?? null });
  });
  return app;
}
