/**
 * Changing the password on the account page (protocol/password-change.ts): a page with the form,
 * refused with the reason on the same page, answered with a redirect once done (Post/Redirect/Get).
 */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { CurrentPasswordRefused } from '../protocol/current-password.js';
import { changePassword, NewPasswordRefused } from '../protocol/password-change.js';
import { changePasswordPage } from '../views/password-pages.js';
import { currentPasswordOrFresh, readPersonForm, signedIn, statusOf } from './account-proof.js';
import { INTERRUPTED_CHANGE } from './fresh-sign-in.js';

const PASSWORD_PATH = `${ISSUER_PATHS.account}/password`;

export function passwordChangeRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get(PASSWORD_PATH, async function showChangePassword(c) {
    noStore(c);
    const who = await signedIn(ctx, c);
    if (who instanceof Response) return who;
    return renderPage(c, () =>
      changePasswordPage({
        ...who,
        email: who.user.email,
        changed: c.req.query('changed') === '1',
        again: c.req.query(INTERRUPTED_CHANGE) === '1',
      }),
    );
  });

  app.post(PASSWORD_PATH, async function changePasswordRoute(c) {
    noStore(c);
    const read = await readPersonForm(ctx, c);
    if (read instanceof Response) return read;
    const { session, form, user, csrfToken } = read;
    const refused = (error: string, status: 400 | 401 | 429) =>
      renderPage(c, () => changePasswordPage({ csrfToken, email: user.email, error }), status);
    const current = await currentPasswordOrFresh(ctx, c, session, form.get('current_password') ?? '', PASSWORD_PATH);
    if (current instanceof Response) return current;
    try {
      await changePassword(ctx, session, user, {
        currentPassword: current,
        newPassword: form.get('new_password') ?? '',
        repeated: form.get('new_password_again') ?? '',
        endOtherSessions: form.get('end_other_sessions') === '1',
        ip: deviceOf(c, ctx.config).ip,
      });
    } catch (e) {
      if (e instanceof NewPasswordRefused) return refused(e.message, 400);
      if (e instanceof CurrentPasswordRefused) return refused(e.message, statusOf(e));
      throw e;
    }
    return c.redirect(`${PASSWORD_PATH}?changed=1`, 303);
  });

  return app;
}
