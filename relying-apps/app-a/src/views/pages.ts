/**
 * App A's pages. Element ids (`#status`, `#sign-in`, `#sign-out`, `#from-app-b` and the `#app-b-…`
 * inside it) are what browser tests look for.
 */
import type { FromAppB } from '../app-b-api.js';
import type { AppSession } from '../sessions/session-store.js';
import { html, type Html } from '@tessera/shared/node';
import { page } from './page.js';

export function homePage(session: AppSession | undefined, notice?: string, fromAppB?: FromAppB): string {
  if (session === undefined) {
    return page(
      'Signed out',
      html`<h1>App A</h1>
${notice ? html`<p role="status">${notice}</p>` : ''}
<p id="status">Signed out</p>
<a id="sign-in" class="button" href="/login">Sign in</a>`,
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

/** A failed sign-in or a refused request: what happened, and a way to start again. Never a stack trace. */
export function problemPage(title: string, message: string, code?: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
${code ? html`<p class="muted">Error code: <code>${code}</code></p>` : ''}
<a id="sign-in" class="button" href="/login">Sign in</a>
<p><a href="/">Back to App A</a></p>`,
  );
}
