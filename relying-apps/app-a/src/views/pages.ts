/**
 * App A's pages. Element ids (`#status`, `#sign-in`, `#sign-out`, `#security`, `#from-app-b` and the
 * `#app-b-…` inside it; on the security page `#acr`, `#amr`, `#auth-time`) are what browser tests look for.
 */
import { ACR_MFA, ACR_PASSWORD, ACR_PHISHING_RESISTANT } from '@tessera/shared';
import type { AppBFailure, AppBNeedsSignIn, AppBSecurityAnswer, FromAppB } from '../app-b-api.js';
import type { AppSession } from '../sessions/session-store.js';
import { html, type Html } from '@tessera/shared/node';
import { fedcmButton, page } from './page.js';

export function homePage(session: AppSession | undefined, notice?: string, fromAppB?: FromAppB): string {
  if (session === undefined) {
    return page(
      'Signed out',
      html`<h1>App A</h1>
${notice ? html`<p role="status">${notice}</p>` : ''}
<p id="status">Signed out</p>
${fedcmButton(notice ? { signedOut: true } : { passive: true })}
<a id="sign-in" class="button" href="/login">Sign in</a>`,
      { withFedCm: true },
    );
  }
  return page(
    'Signed in',
    html`<h1>App A</h1>
<p id="status">Signed in as ${session.name} (${session.email})</p>
<dl>
  <dt>Name</dt><dd id="name">${session.name}</dd>
  <dt>Email</dt><dd id="email">${session.email}</dd>
</dl>
${fromAppB === undefined ? '' : appBSection(fromAppB)}
<p><a id="security" href="/security">Security settings</a> (asks for a second factor)</p>
<form method="post" action="/logout">
  <input type="hidden" name="csrf_token" value="${session.csrfToken}">
  <button id="sign-out" type="submit">Sign out</button>
</form>`,
  );
}

/** What app B's API returned when app A's server called it for the person, or why there is nothing. */
function appBSection(from: FromAppB): Html {
  let body: Html;
  if (from.kind === 'answer') {
    body = html`<p class="muted">App A's server exchanged your access token for one for app B's API, then
called it.</p>
<dl>
  <dt>Sees</dt><dd id="app-b-person">${from.name ?? from.sub}${from.email === null ? '' : html` (${from.email})`}</dd>
  <dt>Subject</dt><dd id="app-b-sub">${from.sub}</dd>
  <dt>Client</dt><dd id="app-b-client">${from.clientId}</dd>
  <dt>Acting</dt><dd id="app-b-act">${from.actors.length === 0 ? 'nobody' : from.actors.join(', for ')}</dd>
</dl>`;
  } else if (from.kind === 'sign_in_again') {
    body = html`<p id="app-b-status">App A's access for you has expired: it lives minutes, this page's session
hours. <a id="app-b-sign-in" href="/login">Renew it</a> — while you are signed in at the sign-in service, no
password is asked.</p>`;
  } else {
    body = html`<p id="app-b-status" class="error" role="alert">${from.message}</p>
<p class="muted">Error code: <code id="app-b-error">${from.code}</code>${
      from.signInHelps ? html` · <a id="app-b-sign-in" href="/login">Sign in again</a>` : ''
    }</p>`;
  }
  return html`<section id="from-app-b">
<h2>From app B's API</h2>
${body}
</section>`;
}

/** The classes Tessera states, in words; another issuer's is shown as it came. */
const ACR_NAMES: Record<string, string> = {
  [ACR_PASSWORD]: 'Password only',
  [ACR_MFA]: 'Two factors',
  [ACR_PHISHING_RESISTANT]: 'Passkey (phishing-resistant)',
};

const acrName = (acr: string | null | undefined): string =>
  acr === null || acr === undefined ? 'Not stated' : (ACR_NAMES[acr] ?? acr);
const methods = (amr: readonly string[] | undefined): string =>
  amr === undefined || amr.length === 0 ? 'Not stated' : amr.join(', ');
const when = (epochSec: number | null | undefined): string =>
  epochSec === null || epochSec === undefined ? 'Not stated' : new Date(epochSec * 1000).toISOString();

/**
 * The security settings page: how the person signed in, as the ID token states it, and as app B's
 * step-up API read it from the token app A sent it.
 */
export function securityPage(
  session: AppSession,
  fromAppB: AppBSecurityAnswer | AppBNeedsSignIn | AppBFailure,
): string {
  let appB: Html;
  if (fromAppB.kind === 'answer') {
    appB = html`<p class="muted">App B's step-up API, which needs a second factor, let App A's call through.</p>
<dl>
  <dt>Sign-in</dt><dd id="app-b-acr">${acrName(fromAppB.acr)}</dd>
  <dt>Methods</dt><dd id="app-b-amr">${methods(fromAppB.amr)}</dd>
</dl>`;
  } else if (fromAppB.kind === 'sign_in_again') {
    appB = html`<p id="app-b-status">App A's access for you has expired. <a id="app-b-sign-in" href="/login">Renew
it</a>, then come back.</p>`;
  } else {
    appB = html`<p id="app-b-status" class="error" role="alert">${fromAppB.message}</p>
<p class="muted">Error code: <code id="app-b-error">${fromAppB.code}</code></p>`;
  }
  return page(
    'Security settings',
    html`<h1>Security settings</h1>
<p id="security-status">You signed in with a second factor, as this page needs.</p>
<dl>
  <dt>Sign-in</dt><dd id="acr">${acrName(session.acr)}</dd>
  <dt>Methods</dt><dd id="amr">${methods(session.amr)}</dd>
  <dt>At</dt><dd id="auth-time">${when(session.authTime)}</dd>
</dl>
<section id="app-b-security">
<h2>From app B's step-up API</h2>
${appB}
</section>
<p><a href="/">Back to App A</a></p>`,
  );
}

/** A failed sign-in or a refused request: what happened, and a way to start again. Never a stack trace. */
export function problemPage(title: string, message: string, code?: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
${code ? html`<p class="muted">Error code: <code>${code}</code></p>` : ''}
${fedcmButton()}
<a id="sign-in" class="button" href="/login">Sign in</a>
<p><a href="/">Back to App A</a></p>`,
    { withFedCm: true },
  );
}
