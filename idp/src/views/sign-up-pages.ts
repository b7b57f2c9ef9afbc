/** The sign-up pages: the form, the answer, an invited account ready, and email verification. */
import { html } from '@tessera/shared/node';
import { page } from './page.js';

export function signUpPage(opts: {
  /** An invitation's token and the address it was sent to: the address is then fixed. */
  invitation?: { token: string; email: string };
  name?: string;
  email?: string;
  error?: string;
}): string {
  const invited = opts.invitation;
  return page(
    'Create an account',
    html`<h1>Create a Tessera account</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/sign-up">
  ${invited ? html`<input type="hidden" name="invitation" value="${invited.token}">` : ''}
  <label for="name">Name</label>
  <input id="name" name="name" type="text" autocomplete="name" required maxlength="200" value="${opts.name ?? ''}">
  <label for="email">Email</label>
  ${
    invited
      ? html`<input id="email" name="email" type="email" autocomplete="username" value="${invited.email}" readonly>`
      : html`<input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ''}">`
  }
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="15">
  <p class="muted">At least 15 characters: a few unrelated words are easy to remember.</p>
  <button type="submit">Create the account</button>
</form>
<p class="muted">Have an account? <a href="/account">Sign in</a></p>`,
    { style: 'input[type=text] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; }' },
  );
}

export function signUpClosedPage(): string {
  return page(
    'Sign-up is closed',
    html`<h1>Sign-up is closed</h1>
<p class="error" role="alert">Accounts here are created by invitation or by an administrator.</p>`,
  );
}

export function badInvitationPage(): string {
  return page(
    'This invitation no longer works',
    html`<h1>This invitation no longer works</h1>
<p class="error" role="alert">An invitation works once, for a limited time, and only the newest one sent.
Ask whoever invited you for a new one.</p>`,
  );
}

/** The one answer to a sign-up, whether the address is new or has an account. */
export function checkYourEmailPage(): string {
  return page(
    'Check your email',
    html`<h1>Check your email</h1>
<p>We have mailed the address you gave. Follow the link in the mail to confirm it, then sign in.</p>
<p class="muted">No mail after a few minutes? Look in your spam folder.</p>`,
  );
}

export function accountReadyPage(): string {
  return page(
    'Your account is ready',
    html`<h1>Your account is ready</h1>
<p><a href="/account">Sign in</a></p>`,
  );
}

/** The verification link's page: a button, so that a mail scanner fetching the link uses nothing. */
export function confirmEmailPage(opts: { token: string }): string {
  return page(
    'Confirm your email address',
    html`<h1>Confirm your email address</h1>
<form method="post" action="/email/verify">
  <input type="hidden" name="token" value="${opts.token}">
  <button type="submit">Confirm</button>
</form>`,
  );
}

export function emailVerifiedPage(): string {
  return page(
    'Email address confirmed',
    html`<h1>Your email address is confirmed</h1>
<p>You can sign in now.</p>
<p><a href="/account">Sign in</a></p>`,
  );
}

export function deadVerificationLinkPage(): string {
  return page(
    'This link no longer works',
    html`<h1>This link no longer works</h1>
<p class="error" role="alert">A confirmation link works once, for 24 hours, and only the newest one. Sign in
to be sent a new one.</p>`,
  );
}
