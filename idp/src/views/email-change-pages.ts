/** The account page's email section, and the pages of a change of address. */
import { html, type Html } from '@tessera/shared/node';
import { page } from './page.js';

/** The account page's section: the address, and a form to move to another (after a fresh sign-in). */
export function emailSection(opts: { email: string; verified: boolean; csrfToken: string }): Html {
  return html`<h2>Email address</h2>
<section id="email">
<p>${opts.email}${opts.verified ? '' : ' (not confirmed)'}</p>
<form method="post" action="/account/email">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <label for="new_email">New email address</label>
  <input id="new_email" name="new_email" type="email" autocomplete="email" required>
  <button type="submit">Send a confirmation link</button>
</form>
<p class="muted">The change takes effect when you follow the link mailed to the new address.</p>
</section>`;
}

export function emailChangeSentPage(opts: { email: string }): string {
  return page(
    'Check your new address',
    html`<h1>Check your new address</h1>
<p>We have mailed a link to ${opts.email}. Your account moves to that address when you follow it.</p>
<p><a href="/account">Back to your account</a></p>`,
  );
}

export function emailChangeRefusedPage(opts: { error: string }): string {
  return page(
    'Email address not changed',
    html`<h1>Email address not changed</h1>
<p class="error" role="alert">${opts.error}</p>
<p><a href="/account">Back to your account</a></p>`,
  );
}

/** The link's page: a button, so that a mail scanner fetching the link changes nothing. */
export function confirmEmailChangePage(opts: { token: string }): string {
  return page(
    'Confirm your new address',
    html`<h1>Confirm your new email address</h1>
<form method="post" action="/account/email/confirm">
  <input type="hidden" name="token" value="${opts.token}">
  <button type="submit">Confirm</button>
</form>`,
  );
}

export function emailChangedPage(opts: { email: string }): string {
  return page(
    'Email address changed',
    html`<h1>Your email address is changed</h1>
<p>You sign in with ${opts.email} from now on.</p>
<p><a href="/account">Your account</a></p>`,
  );
}

export function deadEmailChangeLinkPage(): string {
  return page(
    'This link no longer works',
    html`<h1>This link no longer works</h1>
<p class="error" role="alert">A confirmation link works once, for an hour, and only the newest one you asked
for.</p>
<p><a href="/account">Your account</a></p>`,
  );
}
