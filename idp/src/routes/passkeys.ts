/**
 * Passkeys at the account page: adding one (a WebAuthn registration ceremony on its own page),
 * renaming and removing one; and the script the issuer's pages run the ceremonies with. Actions
 * are account forms (./account.ts: same-site, the session's CSRF token), answered with a redirect.
 * Adding and removing change how the account signs in, so they need a fresh sign-in
 * (./fresh-sign-in.ts); renaming does not.
 */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import {
  auditStaleSignIn,
  finishPasskeyRegistration,
  isCredentialId,
  PasskeyNotFound,
  PasskeyRefused,
  passkeyName,
  removePasskey,
  renamePasskey,
  startPasskeyRegistration,
} from '../protocol/passkeys.js';
import { findActiveSession } from '../protocol/sso-session.js';
import type { SsoSession } from '../store/index.js';
import { PAGE_SCRIPT_PATH, pageScript } from '../views/page-script.js';
import { addPasskeyPage } from '../views/passkey-pages.js';
import { errorPage } from '../views/pages.js';
import { accountCsrfToken, readAccountForm } from './account.js';
import { INTERRUPTED_CHANGE, requireFreshSignIn } from './fresh-sign-in.js';

const PASSKEYS = `${ISSUER_PATHS.account}/passkeys`;

const NAME_RULE = 'Give the passkey a name of at most 64 characters.';
/** Back from the fresh sign-in that stopped a registration: nothing was stored, so it is made again. */
const ADD_AGAIN =
  'Your sign-in was too old to add a passkey, so none was added. Create it again. If your device kept the one it ' +
  'just made, you can delete that one on the device.';
const REGISTRATION_REFUSED = 'The passkey could not be added. Try again.';

export function passkeyRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError((err, c) => {
    if (!(err instanceof PasskeyNotFound)) throw err;
    return renderPage(c, () => errorPage('Passkey not found', 'not_found', 'Your account has no such passkey.'), 404);
  });

  app.get(PAGE_SCRIPT_PATH, async function servePageScript(c) {
    const { code, etag } = await pageScript();
    // Revalidated on every load (cheap with the ETag): a restarted issuer's new script is used at once.
    const headers = { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache', ETag: etag };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    return c.body(code, 200, headers);
  });

  /** The add-a-passkey page, with a new registration challenge issued to `session`. */
  async function addPasskey(
    c: Context<Env>,
    session: SsoSession,
    secret: string,
    shown: { error?: string; note?: string } = {},
  ) {
    const user = await ctx.store.users.findBySub(session.userId);
    if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
    const options = await startPasskeyRegistration(ctx, session, user);
    const csrfToken = accountCsrfToken(secret);
    return renderPage(c, () => addPasskeyPage({ csrfToken, options, ...shown }), shown.error ? 400 : 200);
  }

  app.get(`${PASSKEYS}/new`, async function showAddPasskey(c) {
    noStore(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    if (!session) return c.redirect(ISSUER_PATHS.signIn, 303);
    const stale = await requireFreshSignIn(c, ctx, session, `${PASSKEYS}/new`);
    if (stale) return stale;
    return addPasskey(c, session, secret!, c.req.query(INTERRUPTED_CHANGE) === '1' ? { note: ADD_AGAIN } : {});
  });

  app.post(PASSKEYS, async function registerPasskey(c) {
    noStore(c);
    const action = await readAccountForm(ctx, c);
    if (action instanceof Response) return action;
    const { session, form } = action;
    const stale = await requireFreshSignIn(c, ctx, session, `${PASSKEYS}/new`);
    if (stale) {
      await auditStaleSignIn(ctx, session, 'register', deviceOf(c, ctx.config).ip);
      return stale;
    }
    const secret = readSessionCookie(c, ctx.config)!;
    const name = passkeyName(form.get('name'));
    if (name === undefined) return addPasskey(c, session, secret, { error: NAME_RULE });
    try {
      await finishPasskeyRegistration(ctx, session, {
        credential: form.get('credential') ?? '',
        name,
        ip: deviceOf(c, ctx.config).ip,
      });
    } catch (e) {
      if (!(e instanceof PasskeyRefused)) throw e;
      return addPasskey(c, session, secret, { error: REGISTRATION_REFUSED });
    }
    return c.redirect(ISSUER_PATHS.account, 303);
  });

  app.post(`${PASSKEYS}/rename`, async function renameOnePasskey(c) {
    noStore(c);
    const action = await readAccountForm(ctx, c);
    if (action instanceof Response) return action;
    const { session, form } = action;
    const id = form.get('passkey') ?? '';
    if (!isCredentialId(id)) throw new PasskeyNotFound();
    const name = passkeyName(form.get('name'));
    if (name === undefined)
      return renderPage(c, () => errorPage('Name not changed', 'invalid_request', NAME_RULE), 400);
    await renamePasskey(ctx, session, { id, name, ip: deviceOf(c, ctx.config).ip });
    return c.redirect(ISSUER_PATHS.account, 303);
  });

  app.post(`${PASSKEYS}/remove`, async function removeOnePasskey(c) {
    noStore(c);
    const action = await readAccountForm(ctx, c);
    if (action instanceof Response) return action;
    const { session, form } = action;
    const id = form.get('passkey') ?? '';
    if (!isCredentialId(id)) throw new PasskeyNotFound();
    const stale = await requireFreshSignIn(c, ctx, session, ISSUER_PATHS.account);
    if (stale) {
      await auditStaleSignIn(ctx, session, 'remove', deviceOf(c, ctx.config).ip);
      return stale;
    }
    await removePasskey(ctx, session, { id, ip: deviceOf(c, ctx.config).ip });
    return c.redirect(ISSUER_PATHS.account, 303);
  });

  return app;
}
