/**
 * Deleting one's account on the account page (protocol/account-deletion.ts): a page with the form,
 * the typed confirmation and the proof checked, then the account deleted and this browser signed
 * out, and a page that says so.
 */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { clearSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { deleteAccount } from '../protocol/account-deletion.js';
import { CurrentPasswordRefused, checkCurrentPassword } from '../protocol/current-password.js';
import { normalizeEmail } from '../store/index.js';
import { accountDeletedPage, deleteAccountPage } from '../views/password-pages.js';
import { currentPasswordOrFresh, readPersonForm, signedIn, statusOf } from './account-proof.js';
import { INTERRUPTED_CHANGE } from './fresh-sign-in.js';

const DELETE_PATH = `${ISSUER_PATHS.account}/delete`;
const DELETED_PATH = `${ISSUER_PATHS.account}/deleted`;

export function accountDeletionRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get(DELETE_PATH, async function showDeleteAccount(c) {
    noStore(c);
    const who = await signedIn(ctx, c);
    if (who instanceof Response) return who;
    return renderPage(c, () =>
      deleteAccountPage({ ...who, email: who.user.email, again: c.req.query(INTERRUPTED_CHANGE) === '1' }),
    );
  });

  app.post(DELETE_PATH, async function deleteAccountRoute(c) {
    noStore(c);
    const read = await readPersonForm(ctx, c);
    if (read instanceof Response) return read;
    const { session, form, user, csrfToken } = read;
    const refused = (error: string, status: 400 | 401 | 429) =>
      renderPage(c, () => deleteAccountPage({ csrfToken, email: user.email, error }), status);
    // The typed confirmation first: a slip of the mouse deletes nothing and costs no attempt.
    if (normalizeEmail((form.get('confirm_email') ?? '').slice(0, 320)) !== user.email)
      return refused(`To delete your account, type your email address, ${user.email}, in the box.`, 400);
    const ip = deviceOf(c, ctx.config).ip;
    const current = await currentPasswordOrFresh(ctx, c, session, form.get('current_password') ?? '', DELETE_PATH);
    if (current instanceof Response) return current;
    if (current !== null) {
      try {
        await checkCurrentPassword(ctx, user, current, ip, 'account_deletion');
      } catch (e) {
        if (e instanceof CurrentPasswordRefused) return refused(e.message, statusOf(e));
        throw e;
      }
    }
    await deleteAccount(ctx, user.sub, { ip, actor: user.sub });
    clearSessionCookie(c, ctx.config);
    return c.redirect(DELETED_PATH, 303);
  });

  app.get(DELETED_PATH, async function showAccountDeleted(c) {
    noStore(c);
    return renderPage(c, () => accountDeletedPage());
  });

  return app;
}
