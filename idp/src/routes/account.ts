/**
 * The account page at the issuer: the signed-in person's devices (SSO sessions), and signing
 * out one of them or all; the list of their passkeys (managed in ./passkeys.ts). Each action is a
 * POST form with a token bound to the session cookie and a same-origin check (OWASP CSRF
 * Prevention), answered with a redirect (Post/Redirect/Get).
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { deviceOf } from '../http/device.js';
import { safeEqual } from '../crypto/digest.js';
import QRCode from 'qrcode';
import { DeviceNotFound, endAllDevices, endDevice, endOtherDevices, listDevices } from '../protocol/devices.js';
import type { Params } from '../protocol/params.js';
import {
  confirmTotpEnrolment,
  pendingTotpEnrolment,
  regenerateRecoveryCodes,
  removeTotp,
  secondFactorsOf,
  startTotpEnrolment,
  type TotpEnrolment,
} from '../protocol/second-factor.js';
import { addFactorToSession, findActiveSession } from '../protocol/sso-session.js';
import type { SsoSession, User } from '../store/index.js';
import { recoveryCodesPage, totpEnrolmentPage } from '../views/second-factor-pages.js';
import { requireFreshSignIn } from './fresh-sign-in.js';
import { accountPage } from '../views/account-page.js';
import { emailSection } from '../views/email-change-pages.js';
import { signedOutPage } from '../views/pages.js';
import { forbiddenForm } from './interaction.js';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../http/cookies.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';
import { listPasskeys } from '../protocol/passkeys.js';
import { passkeysSection } from '../views/passkey-pages.js';
import { accountErrors } from '../http/error-handlers.js';

/**
 * A CSRF token bound to the session cookie: only a page we served to this browser has it, and
 * it changes when the session's secret does. Its label keeps it from serving as a logout token.
 */
export const accountCsrfToken = (sessionSecret: string) =>
  createHash('sha256').update(`account-devices:${sessionSecret}`).digest('base64url');

/** Where a person enrols an authenticator app. */
const TOTP_PATH = `${ISSUER_PATHS.account}/totp`;

const CODE_REFUSED = 'That code is not right. Check the time on your device, and enter the code the app shows now.';

/** The enrolment page: the otpauth URI as a QR code, an SVG rendered here (no third-party service). */
async function enrolmentPage(enrolment: TotpEnrolment, csrfToken: string, error?: string): Promise<() => string> {
  const qrSvg = await QRCode.toString(enrolment.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  return () => totpEnrolmentPage({ csrfToken, qrSvg, secret: enrolment.secret, ...(error ? { error } : {}) });
}

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

  /**
   * The checks every security change shares (a new or removed factor, new recovery codes): an
   * account action by a fresh, complete sign-in (routes/fresh-sign-in.ts). The person and session,
   * or the response to send instead.
   */
  async function authorizeSecurityChange(
    c: Context<Env>,
    returnTo: string,
  ): Promise<{ session: SsoSession; user: User; form: Params } | Response> {
    const read = await readAccountForm(ctx, c);
    if (read instanceof Response) return read;
    const { session, form } = read;
    const stale = await requireFreshSignIn(c, ctx, session, returnTo);
    if (stale) return stale;
    const user = await ctx.store.users.findBySub(session.userId);
    if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
    return { session, user, form };
  }

  /** "Sign out my other sessions", when the person ticked it with a change of factors. */
  async function endOthersIfAsked(c: Context<Env>, form: Params, session: SsoSession): Promise<void> {
    if (form.get('end_other_sessions') === '1') await endOtherDevices(ctx, session, deviceOf(c, ctx.config).ip);
  }

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
    const factors = await secondFactorsOf(ctx, user.sub);
    const email = emailSection({ email: user.email, verified: user.emailVerified, csrfToken });
    return renderPage(c, () =>
      accountPage({
        displayName: user.displayName,
        email: user.email,
        csrfToken,
        devices,
        passkeys,
        factors,
        emailSection: email,
      }),
    );
  });

  /** Starts (or shows again) a TOTP enrolment: the QR code and the key, after a fresh sign-in. */
  app.get(TOTP_PATH, async function showTotpEnrolment(c) {
    noStore(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    if (!session) return c.redirect(ISSUER_PATHS.signIn, 303);
    const stale = await requireFreshSignIn(c, ctx, session, TOTP_PATH);
    if (stale) return stale;
    const user = await ctx.store.users.findBySub(session.userId);
    if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
    const enrolment = (await pendingTotpEnrolment(ctx, user)) ?? (await startTotpEnrolment(ctx, user));
    // Already active: it must be removed before another is enrolled.
    if (!enrolment) return c.redirect(ISSUER_PATHS.account, 303);
    return renderPage(c, await enrolmentPage(enrolment, accountCsrfToken(secret!)));
  });

  app.post(`${TOTP_PATH}/confirm`, async function confirmTotp(c) {
    noStore(c);
    const checked = await authorizeSecurityChange(c, TOTP_PATH);
    if (checked instanceof Response) return checked;
    const { session, user, form } = checked;
    const ip = deviceOf(c, ctx.config).ip;
    const result = await confirmTotpEnrolment(ctx, user, (form.get('code') ?? '').slice(0, 16), ip);
    if (result !== true) {
      const enrolment = await pendingTotpEnrolment(ctx, user);
      if (!enrolment) return c.redirect(ISSUER_PATHS.account, 303);
      const csrfToken = accountCsrfToken(readSessionCookie(c, ctx.config)!);
      return renderPage(c, await enrolmentPage(enrolment, csrfToken, CODE_REFUSED), 401);
    }
    // The code proved the authenticator: this session now has both factors (a new secret too).
    const stepped = await addFactorToSession(ctx, session, ['otp']);
    setSessionCookie(c, ctx.config, stepped.secret);
    await endOthersIfAsked(c, form, stepped.session);
    // Recovery codes come with it, shown this once, for the day the authenticator is lost.
    const codes = await regenerateRecoveryCodes(ctx, stepped.session, ip);
    return renderPage(c, () => recoveryCodesPage({ codes }));
  });

  app.post(`${TOTP_PATH}/remove`, async function removeTotpRoute(c) {
    noStore(c);
    const checked = await authorizeSecurityChange(c, ISSUER_PATHS.account);
    if (checked instanceof Response) return checked;
    const { session, user, form } = checked;
    await removeTotp(ctx, user, deviceOf(c, ctx.config).ip);
    await endOthersIfAsked(c, form, session);
    return c.redirect(ISSUER_PATHS.account, 303);
  });

  app.post(`${ISSUER_PATHS.account}/recovery-codes`, async function newRecoveryCodes(c) {
    noStore(c);
    const checked = await authorizeSecurityChange(c, ISSUER_PATHS.account);
    if (checked instanceof Response) return checked;
    const { session, form } = checked;
    const codes = await regenerateRecoveryCodes(ctx, session, deviceOf(c, ctx.config).ip);
    await endOthersIfAsked(c, form, session);
    return renderPage(c, () => recoveryCodesPage({ codes }));
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
    return renderPage(c, () => signedOutPage());
  });

  return app;
}
