/** The session the request's cookie names, if it is live. */
import type { Context } from 'hono';
import type { AppContext } from '../context.js';
import { readCookie } from '../http/cookies.js';
import type { AppSession } from '../sessions/session-store.js';

export async function currentSession(c: Context, ctx: AppContext): Promise<AppSession | undefined> {
  const id = readCookie(c, ctx.cookies.session);
  // Ids we issue are 43 base64url characters; anything else is not worth a lookup.
  return id !== undefined && /^[A-Za-z0-9_-]{43}$/.test(id) ? ctx.sessions.find(id) : undefined;
}
