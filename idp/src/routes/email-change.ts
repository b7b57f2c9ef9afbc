/**
 * A change of email address: asked for on the account page (its CSRF token, a fresh sign-in),
 * confirmed by the link mailed to the new address (/account/email/confirm?token=…, whose token is
 * itself the secret no other site knows).
 */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { isSameOriginForm } from '../http/same-origin.js';
import {
  confirmEmailChange,
  EMAIL_CHANGE_CONFIRM_PATH,
  EMAIL_CHANGE_PATH,
  emailChangeLinkIsGood,
  requestEmailChange,
} from '../protocol/email-change.js';
import {
  confirmEmailChangePage,
  deadEmailChangeLinkPage,
  emailChangedPage,
  emailChangeRefusedPage,
  emailChangeSentPage,
} from '../views/email-change-pages.js';
import { readAccountForm } from './account.js';
import { requireFreshSignIn } from './fresh-sign-in.js';
import { forbiddenForm } from './interaction.js';

export function emailChangeRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.post(EMAIL_CHANGE_PATH, async function requestChange(c) {
    noStore(c);
    const read = await readAccountForm(ctx, c);
    if (read instanceof Response) return read;
    const stale = await requireFreshSignIn(c, ctx, read.session, ISSUER_PATHS.account);
    if (stale) return stale;
    const user = await ctx.store.users.findBySub(read.session.userId);
    if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
    const result = await requestEmailChange(
      requestContext(c, ctx),
      user,
      (read.form.get('new_email') ?? '').slice(0, 400),
      deviceOf(c, ctx.config).ip,
    );
    if (!result.ok) return renderPage(c, () => emailChangeRefusedPage({ error: result.message }), 400);
    return renderPage(c, () => emailChangeSentPage({ email: result.email }));
  });

  app.get(EMAIL_CHANGE_CONFIRM_PATH, async function showConfirmChange(c) {
    noStore(c);
    const token = c.req.query('token');
    if (token === undefined || !(await emailChangeLinkIsGood(ctx, token)))
      return renderPage(c, () => deadEmailChangeLinkPage(), 400);
    return renderPage(c, () => confirmEmailChangePage({ token }));
  });

  app.post(EMAIL_CHANGE_CONFIRM_PATH, async function submitConfirmChange(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const result = await confirmEmailChange(requestContext(c, ctx), form.get('token'), deviceOf(c, ctx.config).ip);
    if (result.kind === 'invalid-link') return renderPage(c, () => deadEmailChangeLinkPage(), 400);
    if (result.kind === 'taken')
      return renderPage(c, () => emailChangeRefusedPage({ error: 'Another account took that address first.' }), 409);
    return renderPage(c, () => emailChangedPage({ email: result.email }));
  });

  return app;
}
