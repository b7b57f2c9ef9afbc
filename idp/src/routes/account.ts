/**
 * The account page at the issuer: the signed-in person's devices (SSO sessions), and signing
 * out one of them or all; the list of their passkeys (managed in ./passkeys.ts). Each action is a
 * POST form with a token bound to the session cookie and a same-origin check (OWASP CSRF
 * Prevention), answered with a redirect (Post/Redirect/Get).
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { deviceOf } from '../http/device.js';
import { safeEqual } from '../crypto/digest.js';
import { DeviceNotFound, endAllDevices, endDevice, listDevices } from '../protocol/devices.js';
import { findActiveSession } from '../protocol/sso-session.js';
import type { SsoSession } from '../store/index.js';
import { accountPage } from '../views/account-page.js';
import { signedOutPage } from '../views/pages.js';
import { forbiddenForm } from './interaction.js';
import { clearSessionCookie, readSessionCookie } from '../http/cookies.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';
import type { Params } from '../protocol/params.js';
import { listPasskeys } from '../protocol/passkeys.js';
import { passkeysSection } from '../views/passkey-pages.js';
import { accountErrors } from '../http/error-handlers.js';

/**
 * A CSRF token bound to the session cookie: only a page we served to this browser has it, and
 * it changes when the session's secret does. Its label keeps it from serving as a logout token.
 */
export const accountCsrfToken = (sessionSecret: string) =>
  createHash('sha256').update(`account-devices:${sessionSecret}`).digest('base64url');

/** Session ids are randomId(): 22 base64url characters. Anything else names no device. */
const SID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The checks every account action shares: a same-site form carrying this session's token.
 * Returns the session and the form, or the response to send instead.
 */
export async function readAccountForm(
  ctx: IssuerContext,
  c: Context<Env>,
): Promise<{ session: SsoSession; form: Params } | Response> {
  const form = await readForm(c);
  if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
  const secret = readSessionCookie(c, ctx.config);
  const session = await findActiveSession(ctx, secret);
  if (!session) return c.redirect(ISSUER_PATHS.signIn, 303);
  if (!safeEqual(form.get('csrf_token') ?? '', accountCsrfToken(secret!))) return forbiddenForm(c);
  return { session, form };
}

export function accountRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(accountErrors);

  // Post/Redirect/Get lands here once this browser is signed out, so a reload re-posts nothing.
  const signedOut = (c: Context<Env>) => {
    clearSessionCookie(c, ctx.config);
    return c.redirect(`${ISSUER_PATHS.account}/signed-out`, 303);
  };

  app.get(ISSUER_PATHS.account, async function showAccount(c) {
    noStore(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    // A sign-in started at the issuer lands on /account afterwards (routes/sign-in.ts).
    if (!session) return c.redirect(ISSUER_PATHS.signIn, 303);
    const user = await ctx.store.users.findBySub(session.userId);
    if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
    const devices = await listDevices(ctx, session);
    const csrfToken = accountCsrfToken(secret!);
    const passkeys = passkeysSection({ csrfToken, passkeys: await listPasskeys(ctx, session) });
    return c.html(accountPage({ displayName: user.displayName, email: user.email, csrfToken, devices, passkeys }));
  });

  app.post(`${ISSUER_PATHS.account}/devices/:sid/end`, async function signOutDevice(c) {
    noStore(c);
    const action = await readAccountForm(ctx, c);
    if (action instanceof Response) return action;
    const { session } = action;
    const sid = c.req.param('sid');
    if (!SID.test(sid)) throw new DeviceNotFound();
    const { endedCurrent } = await endDevice(ctx, session, sid, deviceOf(c, ctx.config).ip);
    return endedCurrent ? signedOut(c) : c.redirect(ISSUER_PATHS.account, 303);
  });

  app.post(`${ISSUER_PATHS.account}/sign-out-everywhere`, async function signOutEverywhere(c) {
    noStore(c);
    const action = await readAccountForm(ctx, c);
    if (action instanceof Response) return action;
    const { session } = action;
    await endAllDevices(ctx, session, deviceOf(c, ctx.config).ip);
    return signedOut(c);
  });

  app.get(`${ISSUER_PATHS.account}/signed-out`, async function showSignedOut(c) {
    noStore(c);
    // Someone still signed in here has nothing signed out to be told about.
    if (await findActiveSession(ctx, readSessionCookie(c, ctx.config))) return c.redirect(ISSUER_PATHS.account, 303);
    return c.html(signedOutPage());
  });

  return app;
}
