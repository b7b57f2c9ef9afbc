/**
 * The admin console's pages (/admin): server-rendered in the issuer's look, no JavaScript. Every
 * button is a POST form carrying the console's form token; every value shown is escaped by `html`.
 */
import { html, type Html } from '@tessera/shared/node';
import type { SigningKeyListing } from '../keys/key-commands.js';
import type { PersonOverview } from '../protocol/users-admin.js';
import type { AuditEvent, User } from '../store/index.js';
import { describeMethods } from './account-page.js';
import { describeDevice } from '../protocol/device-description.js';
import { page } from './page.js';

/** The console's paths, each a constant: the fresh sign-in gate returns to them as they are. */
export const ADMIN_PATHS = {
  home: '/admin',
  users: '/admin/users',
  audit: '/admin/audit',
  keys: '/admin/keys',
} as const;

export const userPath = (sub: string) => `${ADMIN_PATHS.users}/${encodeURIComponent(sub)}`;

// Tables need more room than the shell's form-sized box.
const STYLE = `
  main { width: min(64rem, 94vw); }
  nav { display: flex; gap: 1rem; margin-bottom: 1rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-top: 1px solid #8884; vertical-align: top; }
  td code { word-break: break-all; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; }
  dt { color: #888; }
  dd { margin: 0; }
  form.inline { display: inline; }
  .filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0 .8rem; }
  .filters input, .filters select, .search input { width: 100%; box-sizing: border-box; padding: .4rem; }
  .notice { border: 1px solid #8884; border-radius: 8px; padding: .5rem .8rem; }
  .danger { color: #b00020; }
`;

/** "2025-03-04 17:05:09 UTC": one zone for every reader, whatever the server's. */
const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
const when = (ms: number) => html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time>`;

export interface ConsoleFrame {
  /** The signed-in admin, named at the top of every page. */
  admin: User;
  /** The form token every POST carries. */
  formToken: string;
}

function consolePage(title: string, frame: ConsoleFrame, body: Html, status?: { notice?: string; error?: string }) {
  return page(
    `${title} · Admin`,
    html`<nav aria-label="Admin console">
  <a href="${ADMIN_PATHS.home}">Console</a>
  <a href="${ADMIN_PATHS.users}">Users</a>
  <a href="${ADMIN_PATHS.audit}">Audit trail</a>
  <a href="${ADMIN_PATHS.keys}">Signing keys</a>
  <a href="/account">Your account</a>
</nav>
<h1>${title}</h1>
${status?.notice ? html`<p class="notice" role="status">${status.notice}</p>` : ''}
${status?.error ? html`<p class="error" role="alert">${status.error}</p>` : ''}
${body}
<p class="muted">Signed in as ${frame.admin.email} (admin).</p>`,
    { style: STYLE },
  );
}

/** A POST button with the form token: the console's only way to change anything. */
const action = (frame: ConsoleFrame, to: string, label: string, extra: Html | string = '') =>
  html`<form class="inline" method="post" action="${to}">
  <input type="hidden" name="form_token" value="${frame.formToken}">${extra}
  <button type="submit">${label}</button>
</form>`;

const searchForm = (text: string) => html`<form class="search" method="get" action="${ADMIN_PATHS.users}">
  <label for="q">Find people by email or name</label>
  <input id="q" name="q" type="search" maxlength="320" value="${text}">
  <button type="submit">Search</button>
</form>`;

export function consoleHomePage(frame: ConsoleFrame): string {
  return consolePage(
    'Admin console',
    frame,
    html`${searchForm('')}
<ul>
  <li><a href="${ADMIN_PATHS.audit}">The audit trail</a>: who did what, from where, when.</li>
  <li><a href="${ADMIN_PATHS.keys}">Signing keys</a>: their state, age and next rotation.</li>
</ul>`,
  );
}

export function usersPage(
  frame: ConsoleFrame,
  opts: { text: string; people?: User[]; more?: boolean; error?: string },
): string {
  const row = (u: User) => html`<tr>
  <td><a href="${userPath(u.sub)}">${u.email}</a></td>
  <td>${u.displayName}</td>
  <td>${when(u.createdAt)}</td>
  <td>${u.admin ? 'admin' : ''} ${u.disabledAt !== null ? html`<span class="danger">disabled</span>` : ''}</td>
</tr>`;
  const results =
    opts.people === undefined
      ? ''
      : opts.people.length === 0
        ? html`<p>Nobody matches.</p>`
        : html`<table>
  <thead><tr><th>Email</th><th>Name</th><th>Created</th><th>State</th></tr></thead>
  <tbody>${opts.people.map(row)}</tbody>
</table>
${
  opts.more ? html`<p class="muted">Only the first ${String(opts.people.length)} are shown: narrow the search.</p>` : ''
}`;
  return consolePage('Users', frame, html`${searchForm(opts.text)}${results}`, opts.error ? { error: opts.error } : {});
}

/** What a change did, shown once after the redirect (Post/Redirect/Get): a fixed text per outcome. */
export const USER_NOTICES = {
  disabled: 'The account is disabled: its sessions ended and its apps were told.',
  enabled: 'The account is enabled: the person may sign in again.',
  'sessions-ended': 'Every session of this person ended (their apps were told) and every grant was revoked.',
  unchanged: 'Nothing to change: the account was already so.',
} as const;
export type UserNotice = keyof typeof USER_NOTICES;

export function userPage(
  frame: ConsoleFrame,
  view: PersonOverview,
  shown: { notice?: string; error?: string },
): string {
  const { user } = view;
  const base = userPath(user.sub);
  const session = (s: PersonOverview['sessions'][number]) => html`<tr>
  <td>${describeDevice(s.userAgent)}</td>
  <td>${s.ip}</td>
  <td>${when(s.authTime)}</td>
  <td>${when(s.lastSeenAt)}</td>
  <td>${describeMethods(s.amr)}</td>
</tr>`;
  const self = user.sub === frame.admin.sub;
  return consolePage(
    user.displayName,
    frame,
    html`<dl>
  <dt>Email</dt><dd>${user.email}</dd>
  <dt>Subject (sub)</dt><dd><code>${user.sub}</code></dd>
  <dt>Created</dt><dd>${when(user.createdAt)}</dd>
  <dt>Admin</dt><dd>${user.admin ? 'yes (granted by the command line)' : 'no'}</dd>
  <dt>State</dt><dd>${
    user.disabledAt === null ? 'active' : html`<span class="danger">disabled since ${when(user.disabledAt)}</span>`
  }</dd>
  <dt>Passkeys</dt><dd>${String(view.passkeys)}</dd>
  <dt>Authenticator app</dt><dd>${view.factors.totp ? 'on' : 'off'}</dd>
  <dt>Recovery codes left</dt><dd>${String(view.factors.recoveryCodes)}</dd>
</dl>
<h2>Sessions</h2>
${
  view.sessions.length === 0
    ? html`<p>No active session.</p>`
    : html`<table>
  <thead><tr><th>Device</th><th>IP address</th><th>Signed in</th><th>Last active</th><th>Signed in with</th></tr>
  </thead>
  <tbody>${view.sessions.map(session)}</tbody>
</table>`
}
<h2>Actions</h2>
<p>
${action(frame, `${base}/end-sessions`, 'End all sessions')}
${
  self
    ? html`<span class="muted">You cannot disable your own account.</span>`
    : user.disabledAt === null
      ? action(frame, `${base}/disable`, 'Disable account')
      : action(frame, `${base}/enable`, 'Enable account')
}
</p>
<p class="muted">Ending all sessions signs the person out everywhere (their apps are told) and revokes every grant,
offline ones included; they may sign in again. Disabling does the same and refuses every sign-in, grant and token
of the person until the account is enabled.</p>
<p><a href="${ADMIN_PATHS.users}">Back to users</a></p>`,
    shown,
  );
}

/** The audit filters as the form shows them back: the text as typed. */
export interface AuditFormValues {
  type: string;
  person: string;
  client: string;
  since: string;
  until: string;
}

export function auditPage(
  frame: ConsoleFrame,
  opts: {
    values: AuditFormValues;
    events: AuditEvent[];
    /** The query of the next (older) page, when there is one. */
    older?: string;
    error?: string;
  },
): string {
  const v = opts.values;
  const row = (e: AuditEvent) => html`<tr>
  <td>${when(e.at)}</td>
  <td>${e.type}</td>
  <td>${e.subject ? html`<a href="${userPath(e.subject)}"><code>${e.subject}</code></a>` : ''}</td>
  <td>${e.clientId ?? ''}</td>
  <td>${e.ip ?? ''}</td>
  <td><code>${e.detail ? JSON.stringify(e.detail) : ''}</code></td>
</tr>`;
  return consolePage(
    'Audit trail',
    frame,
    html`<form method="get" action="${ADMIN_PATHS.audit}">
  <div class="filters">
    <div><label for="type">Type (e.g. user.disabled)</label>
      <input id="type" name="type" maxlength="64" value="${v.type}"></div>
    <div><label for="person">Person (email or sub)</label>
      <input id="person" name="person" maxlength="320" value="${v.person}"></div>
    <div><label for="client">Client id</label>
      <input id="client" name="client" maxlength="128" value="${v.client}"></div>
    <div><label for="since">From (UTC)</label>
      <input id="since" name="since" type="datetime-local" value="${v.since}"></div>
    <div><label for="until">To (UTC)</label>
      <input id="until" name="until" type="datetime-local" value="${v.until}"></div>
  </div>
  <button type="submit">Filter</button>
</form>
${
  opts.events.length === 0
    ? html`<p>No event matches.</p>`
    : html`<table>
  <thead><tr><th>Time</th><th>Type</th><th>Person</th><th>Client</th><th>IP</th><th>Detail</th></tr></thead>
  <tbody>${opts.events.map(row)}</tbody>
</table>`
}
${opts.older ? html`<p><a href="${ADMIN_PATHS.audit}?${opts.older}" rel="next">Older events</a></p>` : ''}`,
    opts.error ? { error: opts.error } : {},
  );
}

/** "3 d 4 h", "5 h 2 min", "40 s": how long ago, to the unit that matters. */
function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 86_400) return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min`;
  return `${s} s`;
}

export function keysPage(
  frame: ConsoleFrame,
  keys: SigningKeyListing[],
  now: number,
  shown: { notice?: string; error?: string },
) {
  const row = (k: SigningKeyListing) => html`<tr>
  <td><code>${k.kid}</code></td>
  <td>${k.alg}</td>
  <td>${k.state}</td>
  <td>${k.created} (${age(now - Date.parse(k.created))} old)</td>
  <td>${k.activated ?? ''}</td>
  <td>${k.retired ?? ''}</td>
  <td>${k.due ?? ''}</td>
</tr>`;
  return consolePage(
    'Signing keys',
    frame,
    html`<table>
  <thead><tr><th>kid</th><th>alg</th><th>State</th><th>Created</th><th>Signing since</th><th>Retired</th>
  <th>Next step due</th></tr></thead>
  <tbody>${keys.map(row)}</tbody>
</table>
<p class="muted">Next step: when a next key may start signing, when the current key's rotation is scheduled, when a
retired key is removed.</p>
${action(frame, `${ADMIN_PATHS.keys}/rotate`, 'Rotate now')}
<p class="muted">The next key signs from now on; it must have been published for one JWKS max-age first.</p>`,
    shown,
  );
}

/** The one page every refusal of the console shows: why, and nothing of the data. */
export function consoleRefusalPage(title: string, message: string): string {
  return page(title, html`<h1>${title}</h1><p>${message}</p><p><a href="/account">Your account</a></p>`);
}
