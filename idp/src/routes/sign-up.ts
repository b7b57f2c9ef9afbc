/**
 * Sign-up and email verification pages: /sign-up (as TESSERA_SIGN_UP allows) and
 * /email/verify?token=…. Forms post only from the issuer's own pages (isSameOriginForm).
 */
import { Hono } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { isSameOriginForm } from '../http/same-origin.js';
import {
  SIGN_UP_PATH,
  signUp,
  signUpInvitation,
  VERIFY_EMAIL_PATH,
  verificationLinkIsGood,
  verifyEmail,
} from '../protocol/sign-up.js';
import {
  accountReadyPage,
  badInvitationPage,
  checkYourEmailPage,
  confirmEmailPage,
  deadVerificationLinkPage,
  emailVerifiedPage,
  signUpClosedPage,
  signUpPage,
} from '../views/sign-up-pages.js';
import { forbiddenForm } from './interaction.js';

export function signUpRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get(SIGN_UP_PATH, async function showSignUp(c) {
    noStore(c);
    const token = c.req.query('invitation');
    const opened = await signUpInvitation(ctx, token);
    if (opened.kind === 'closed') return renderPage(c, () => signUpClosedPage(), 404);
    if (opened.kind === 'bad-invitation') return renderPage(c, () => badInvitationPage(), 400);
    return renderPage(c, () =>
      signUpPage(
        opened.kind === 'invited' && token !== undefined ? { invitation: { token, email: opened.email } } : {},
      ),
    );
  });

  app.post(SIGN_UP_PATH, async function submitSignUp(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const input = {
      name: (form.get('name') ?? '').slice(0, 400),
      email: (form.get('email') ?? '').slice(0, 400),
      password: form.get('password') ?? '',
      invitation: form.get('invitation'),
    };
    const result = await signUp(requestContext(c, ctx), { ...input, ip: deviceOf(c, ctx.config).ip });
    switch (result.kind) {
      case 'closed':
        return renderPage(c, () => signUpClosedPage(), 404);
      case 'bad-invitation':
        return renderPage(c, () => badInvitationPage(), 400);
      case 'refused': {
        const opened = await signUpInvitation(ctx, input.invitation);
        const invitation =
          opened.kind === 'invited' && input.invitation !== undefined
            ? { invitation: { token: input.invitation, email: opened.email } }
            : {};
        return renderPage(
          c,
          () => signUpPage({ name: input.name, email: input.email, error: result.message, ...invitation }),
          400,
        );
      }
      case 'ready':
        return renderPage(c, () => accountReadyPage());
      case 'check-email':
        return renderPage(c, () => checkYourEmailPage());
    }
  });

  app.get(VERIFY_EMAIL_PATH, async function showConfirmEmail(c) {
    noStore(c);
    const token = c.req.query('token');
    if (token === undefined || !(await verificationLinkIsGood(ctx, token)))
      return renderPage(c, () => deadVerificationLinkPage(), 400);
    return renderPage(c, () => confirmEmailPage({ token }));
  });

  app.post(VERIFY_EMAIL_PATH, async function submitConfirmEmail(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    if (!(await verifyEmail(ctx, form.get('token')))) return renderPage(c, () => deadVerificationLinkPage(), 400);
    return renderPage(c, () => emailVerifiedPage());
  });

  return app;
}
