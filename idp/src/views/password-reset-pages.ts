/** The pages of a password reset: asking for a link, the answer, the new password, done, a dead link. */
import { html } from '@tessera/shared/node';
import { page } from './page.js';

export function forgotPasswordPage(opts: { interactionId?: string; email?: string; error?: string }): string {
  return page(
    'Forgot your password?',
    html`<h1>Forgot your password?</h1>
<p>Enter the email address you sign in with. If it is an account's, we will mail it a link to choose a new password.</p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/password/forgot">
  ${opts.interactionId ? html`<input type="hidden" name="interaction" value="${opts.interactionId}">` : ''}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ''}" autofocus>
  <button type="submit">Send the link</button>
</form>`,
  );
}

/** The one answer to a request, whether or not the address is an account's. */
export function resetLinkSentPage(opts: { minutes: number }): string {
  return page(
    'Check your email',
    html`<h1>Check your email</h1>
<p>If an account uses that address, a link to choose a new password is on its way. It works once, for
${opts.minutes} minutes.</p>
<p class="muted">No mail after a few minutes? Look in your spam folder, or
<a href="/password/forgot">ask again</a>.</p>`,
  );
}

export function newPasswordPage(opts: { token: string; email: string; error?: string }): string {
  return page(
    'Choose a new password',
    html`<h1>Choose a new password</h1>
<p class="muted">For ${opts.email}. Choosing one signs you out everywhere.</p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/password/reset">
  <input type="hidden" name="token" value="${opts.token}">
  <input type="text" name="username" value="${opts.email}" autocomplete="username" hidden>
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="15" autofocus>
  <label for="password_confirmation">The new password again</label>
  <input id="password_confirmation" name="password_confirmation" type="password" autocomplete="new-password" required>
  <button type="submit">Set the password</button>
</form>`,
  );
}

export function passwordResetDonePage(): string {
  return page(
    'Password changed',
    html`<h1>Your password is changed</h1>
<p>You are signed out everywhere: sign in again with the new password, in each app.</p>
<p><a href="/sign-in">Sign in</a></p>`,
  );
}

export function deadResetLinkPage(): string {
  return page(
    'This link no longer works',
    html`<h1>This link no longer works</h1>
<p class="error" role="alert">A reset link works once, for a limited time, and only the newest one you asked for.</p>
<p><a href="/password/forgot">Ask for a new link</a></p>`,
  );
}
