/** App A's pages. Element ids (`#status`, `#sign-in`, `#sign-out`) are what browser tests look for. */
import type { AppSession } from '../sessions/session-store.js';
import { html } from '@tessera/shared/node';
import { page } from './page.js';

export function homePage(session: AppSession | undefined, notice?: string): string {
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
<form method="post" action="/logout">
  <input type="hidden" name="csrf_token" value="${session.csrfToken}">
  <button id="sign-out" type="submit">Sign out</button>
</form>`,
  );
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
