/**
 * The end-session endpoint (OIDC RP-Initiated Logout 1.0 §2). With a valid id_token_hint for
 * this browser's session it signs out at once; otherwise it asks the person to confirm, so a
 * link on another site cannot sign anyone out (§6: logout CSRF).
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { allowFormRedirectTo, renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { readParams } from '../protocol/params.js';
import { endSsoSession, hintMatchesSession, parseLogoutRequest, type LogoutRequest } from '../protocol/end-session.js';
import type { Params } from '../protocol/params.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { confirmLogoutPage, signedOutPage } from '../views/pages.js';
import { forbiddenForm } from './interaction.js';
import { clearSessionCookie, readSessionCookie } from '../http/cookies.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';
import { endSessionErrors } from '../http/error-handlers.js';

/** A CSRF token bound to the session cookie: only a page we served to this browser has it. */
const logoutCsrfToken = (sessionSecret: string) =>
  createHash('sha256').update(`logout-confirmation:${sessionSecret}`).digest('base64url');

const FORWARDED = ['client_id', 'post_logout_redirect_uri', 'state'] as const;

export function logoutRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(endSessionErrors);

  const finish = (c: Context<Env>, req: LogoutRequest) =>
    req.redirectTo ? c.redirect(req.redirectTo, 303) : renderPage(c, () => signedOutPage());

  async function endSession(c: Context<Env>, params: Params): Promise<Response> {
    noStore(c);
    const req = await parseLogoutRequest(ctx, params);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    if (!session) return finish(c, req);
    if (hintMatchesSession(req.hint, session)) {
      await endSsoSession(ctx, session);
      clearSessionCookie(c, ctx.config);
      return finish(c, req);
    }
    const forwarded: Record<string, string> = {};
    for (const k of FORWARDED) {
      const v = params.get(k);
      if (v !== undefined) forwarded[k] = v;
    }
    if (req.client && forwarded.client_id === undefined && forwarded.post_logout_redirect_uri !== undefined)
      forwarded.client_id = req.client.id;
    // Confirming is answered with a redirect to the validated post-logout URI (see allowFormRedirectTo).
    if (req.redirectTo) allowFormRedirectTo(c, req.redirectTo);
    return renderPage(c, () =>
      confirmLogoutPage({
        csrfToken: logoutCsrfToken(secret!),
        ...(req.client ? { clientName: req.client.name } : {}),
        params: forwarded,
      }),
    );
  }

  app.get(ISSUER_PATHS.endSession, (c) => endSession(c, readParams(new URL(c.req.url).searchParams)));
  // Repeated parameters are refused by parseLogoutRequest, as for GET: a sign-out page either way.
  app.post(ISSUER_PATHS.endSession, async (c) => endSession(c, await readForm(c, { duplicates: 'keep' })));

  app.post(ISSUER_PATHS.endSessionConfirmation, async function confirmLogout(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    const req = await parseLogoutRequest(
      ctx,
      readParams(new URLSearchParams(FORWARDED.flatMap((k) => (form.get(k) === undefined ? [] : [[k, form.get(k)!]])))),
    );
    if (session) {
      if (!safeEqual(form.get('csrf_token') ?? '', logoutCsrfToken(secret!))) return forbiddenForm(c);
      await endSsoSession(ctx, session);
      clearSessionCookie(c, ctx.config);
    }
    return finish(c, req);
  });

  return app;
}
