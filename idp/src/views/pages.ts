/** The issuer's pages: sign-in, consent, errors, and the signed-in home. */
import { html } from '@tessera/shared/node';
import { page } from './page.js';
import { passkeySignInForm } from './passkey-pages.js';

export function signInPage(opts: {
  interactionId: string;
  csrfToken: string;
  clientName?: string;
  email?: string;
  error?: string;
  /** The WebAuthn request options of this page's passkey sign-in (a challenge the issuer stored). */
  passkeyOptions: unknown;
  /** Whether anyone may create an account (TESSERA_SIGN_UP=open): the page then links to it. */
  signUpOpen?: boolean;
}): string {
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
${opts.clientName ? html`<p>to continue to <strong>${opts.clientName}</strong></p>` : ''}
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/sign-in">
  <input type="hidden" name="interaction" value="${opts.interactionId}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username webauthn" required
    value="${opts.email ?? ''}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<p><a href="/password/forgot?interaction=${opts.interactionId}">Forgot your password?</a>${
      opts.signUpOpen ? html` · <a href="/sign-up">Create an account</a>` : ''
    }</p>
${passkeySignInForm(opts)}`,
    { script: true },
  );
}

export const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your account identifier)',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Keep access while you are away (offline access)',
};

export function consentPage(opts: {
  interactionId: string;
  csrfToken: string;
  clientName: string;
  scopes: string[];
  userEmail: string;
}): string {
  return page(
    'Allow access',
    html`<h1>${opts.clientName} wants to access your account</h1>
<p class="muted">Signed in as ${opts.userEmail}</p>
<p>${opts.clientName} is asking to:</p>
<ul>${opts.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s} <span class="muted">(${s})</span></li>`)}</ul>
<form method="post" action="/consent">
  <input type="hidden" name="interaction" value="${opts.interactionId}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <div class="row">
    <button type="submit" name="decision" value="allow">Allow</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </div>
</form>`,
  );
}

export function errorPage(title: string, error: string, description: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${description}</p>
<p class="muted">Error code: <code>${error}</code></p>`,
  );
}

export function homePage(opts: { displayName?: string; email?: string }): string {
  return page(
    'Tessera',
    opts.email
      ? html`<h1>Tessera</h1><p>You are signed in as <strong>${
          opts.displayName ?? ''
        }</strong> (${opts.email}).</p><p><a href="/account">Your account and devices</a></p>`
      : html`<h1>Tessera</h1><p>You are not signed in.</p><p><a href="/sign-in">Sign in</a></p>`,
  );
}

export function confirmLogoutPage(opts: {
  csrfToken: string;
  clientName?: string;
  params: Record<string, string>;
}): string {
  return page(
    'Sign out',
    html`<h1>Sign out of Tessera?</h1>
<p>${
      opts.clientName ? html`<strong>${opts.clientName}</strong> asks to sign you out. ` : ''
    }You will be signed out of every app that uses this account on this device.</p>
<form method="post" action="/logout/confirm">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  ${Object.entries(opts.params).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <div class="row"><button type="submit">Sign out</button></div>
</form>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', html`<h1>You are signed out</h1><p>You can close this window.</p>`);
}
