/**
 * The account's password and deletion pages: changing the password, deleting the account, and
 * what is shown after each. No JavaScript; every form carries the account's CSRF token.
 */
import { html, type Html } from '@tessera/shared/node';
import { MIN_PASSWORD_LENGTH } from '../protocol/password-policy.js';
import { page } from './page.js';

const csrf = (token: string) => html`<input type="hidden" name="csrf_token" value="${token}">`;
const alert = (error: string | undefined) => (error ? html`<p class="error" role="alert">${error}</p>` : '');

/** The account page's part: where to change the password and where to delete the account. */
export function passwordAndDeletionSection(): Html {
  return html`<h2>Password</h2>
<p><a href="/account/password">Change your password</a></p>
<h2>Delete your account</h2>
<p class="muted">Signs you out everywhere and deletes what Tessera keeps about you.</p>
<p><a href="/account/delete">Delete your account…</a></p>`;
}

/** Shown on a page the fresh sign-in gate returned to: what was posted before was not done. */
const interrupted = (what: string) => html`<p role="status">You signed in again, so nothing was done yet: ${what}</p>`;

export function changePasswordPage(opts: {
  csrfToken: string;
  email: string;
  error?: string;
  changed?: boolean;
  /** The fresh sign-in gate stopped a change posted before (routes/fresh-sign-in.ts). */
  again?: boolean;
}): string {
  return page(
    'Change your password',
    html`<h1>Change your password</h1>
${opts.changed ? html`<p role="status"><strong>Your password was changed.</strong></p>` : ''}
${opts.again ? interrupted('your password is unchanged. Type the new password again.') : ''}
${alert(opts.error)}
<form method="post" action="/account/password">${csrf(opts.csrfToken)}
  <input type="text" name="username" value="${opts.email}" autocomplete="username" hidden>
  <label for="current-password">Current password</label>
  <input id="current-password" name="current_password" type="password" autocomplete="current-password"
    aria-describedby="current-help">
  <p id="current-help" class="muted">If you sign in with a passkey and have no password, leave it empty:
    you will be asked to sign in again first.</p>
  <label for="new-password">New password</label>
  <input id="new-password" name="new_password" type="password" autocomplete="new-password" required
    minlength="${String(MIN_PASSWORD_LENGTH)}" aria-describedby="new-help">
  <p id="new-help" class="muted">At least ${String(MIN_PASSWORD_LENGTH)} characters. A few unrelated words
    make a strong password; no digits or symbols needed.</p>
  <label for="new-password-again">New password again</label>
  <input id="new-password-again" name="new_password_again" type="password" autocomplete="new-password" required>
  <label><input type="checkbox" name="end_other_sessions" value="1"> Sign out my other devices</label>
  <button type="submit">Change password</button>
</form>
<p><a href="/account">Back to your account</a></p>`,
  );
}

export function deleteAccountPage(opts: { csrfToken: string; email: string; error?: string; again?: boolean }): string {
  return page(
    'Delete your account',
    html`<h1>Delete your account</h1>
${opts.again ? interrupted('your account is not deleted. Confirm again to delete it.') : ''}
${alert(opts.error)}
<p>This signs you out of every app on every device, and deletes your account: your name, email
address, password, passkeys, second factors and the apps you allowed. It cannot be undone.</p>
<form method="post" action="/account/delete">${csrf(opts.csrfToken)}
  <input type="text" name="username" value="${opts.email}" autocomplete="username" hidden>
  <label for="current-password">Your password</label>
  <input id="current-password" name="current_password" type="password" autocomplete="current-password"
    aria-describedby="current-help">
  <p id="current-help" class="muted">If you sign in with a passkey and have no password, leave it empty:
    you will be asked to sign in again first.</p>
  <label for="confirm-email">To confirm, type your email address, ${opts.email}</label>
  <input id="confirm-email" name="confirm_email" type="email" autocomplete="off" required>
  <button type="submit">Delete my account</button>
</form>
<p><a href="/account">Keep my account</a></p>`,
  );
}

export function accountDeletedPage(): string {
  return page(
    'Account deleted',
    html`<h1>Your account is deleted</h1>
<p>You are signed out everywhere, and your personal data is gone. You can close this window.</p>`,
  );
}
