/**
 * The admin console's pages (/admin): server-rendered in the issuer's look, no JavaScript. Every
 * button is a POST form carrying the console's form token; every value shown is escaped by `html`.
 */
import { html, type Html } from '@tessera/shared/node';
import type { SigningKeyListing } from '../keys/key-commands.js';
import type { PersonOverview } from '../protocol/users-admin.js';
import type { AuditEvent, Client, Resource, User } from '../store/index.js';
import { describeMethods } from './account-page.js';
import { describeDevice } from '../protocol/device-description.js';
import { page } from './page.js';

/** The console's paths, each a constant: the fresh sign-in gate returns to them as they are. */
export const ADMIN_PATHS = {
  home: '/admin',
  users: '/admin/users',
  audit: '/admin/audit',
  keys: '/admin/keys',
  clients: '/admin/clients',
  resources: '/admin/resources',
} as const;

export const clientPath = (id: string) => `${ADMIN_PATHS.clients}/${encodeURIComponent(id)}`;

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
  /** A change was stopped by the fresh sign-in gate on the way here: it was not made. */
  interrupted?: boolean;
}

function consolePage(title: string, frame: ConsoleFrame, body: Html, status?: { notice?: string; error?: string }) {
  return page(
    `${title} · Admin`,
    html`<nav aria-label="Admin console">
  <a href="${ADMIN_PATHS.home}">Console</a>
  <a href="${ADMIN_PATHS.users}">Users</a>
  <a href="${ADMIN_PATHS.audit}">Audit trail</a>
  <a href="${ADMIN_PATHS.clients}">Clients and resources</a>
  <a href="${ADMIN_PATHS.keys}">Signing keys</a>
  <a href="/account">Your account</a>
</nav>
<h1>${title}</h1>
${
  frame.interrupted
    ? html`<p class="notice" role="status">Your sign-in had to be renewed, so nothing was changed. Do it again if
  you still mean to.</p>`
    : ''
}
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
  <li><a href="${ADMIN_PATHS.clients}">Clients and resources</a>: the apps and APIs that trust this issuer.</li>
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
  'verification-sent': 'A new link to confirm the address was mailed to the person.',
  'already-verified': 'Nothing sent: the address is confirmed already.',
  'reset-sent': 'A password-reset link was mailed to the person; only they can use it.',
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
  <dt>Address confirmed</dt><dd>${user.emailVerified ? 'yes' : 'no'}</dd>
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
${user.emailVerified ? '' : action(frame, `${base}/resend-verification`, 'Resend verification')}
${action(frame, `${base}/send-reset`, 'Send password reset')}
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

/** What a client form sends back when refused: the text as typed, shown again with the reason. */
export interface ClientFormValues {
  name: string;
  type: string;
  party: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  resources: string[];
  requireMfa: boolean;
}

const lines = (values: readonly string[]) => values.join('\n');

const resourceChoices = (resources: Resource[], chosen: readonly string[]) =>
  resources.length === 0
    ? html`<p class="muted">No resource is registered.</p>`
    : // One name per box: a form names each field once (http/forms.ts refuses repeats).
      resources.map(
        (r, i) =>
          html`<label><input type="checkbox" name="resource_${String(i)}" value="${r.id}" ${
            chosen.includes(r.id) ? 'checked' : ''
          }> ${r.name} <code>${r.id}</code></label>`,
      );

const uriFields = (v: { redirectUris: string; postLogoutRedirectUris: string }) => html`<label for="redirect_uris"
  >Redirect URIs (one per line)</label>
<textarea id="redirect_uris" name="redirect_uris" rows="3" cols="60">${v.redirectUris}</textarea>
<label for="post_logout_redirect_uris">Post-logout redirect URIs (one per line)</label>
<textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris" rows="2" cols="60"
  >${v.postLogoutRedirectUris}</textarea>`;

const mfaField = (on: boolean) =>
  html`<label><input type="checkbox" name="require_mfa" value="1" ${on ? 'checked' : ''}>
  Every sign-in for it needs a second factor or a passkey</label>`;

export const CLIENT_NOTICES = {
  updated: 'The client is updated.',
  deleted: 'The client is deleted, with its grants, consents and tokens.',
  'resource-created': 'The resource is registered.',
} as const;
export type ClientNotice = keyof typeof CLIENT_NOTICES;

export function clientsPage(
  frame: ConsoleFrame,
  opts: {
    clients: Client[];
    resources: Resource[];
    values?: ClientFormValues;
    resourceValues?: { id: string; name: string; scopes: string };
    notice?: string;
    error?: string;
  },
): string {
  const v = opts.values ?? {
    name: '',
    type: 'confidential',
    party: 'first',
    redirectUris: '',
    postLogoutRedirectUris: '',
    resources: [],
    requireMfa: false,
  };
  const rv = opts.resourceValues ?? { id: '', name: '', scopes: '' };
  const row = (c: Client) => html`<tr>
  <td><a href="${clientPath(c.id)}"><code>${c.id}</code></a></td>
  <td>${c.name}</td>
  <td>${c.type}, ${c.party} party</td>
  <td>${c.redirectUris.map((u) => html`<code>${u}</code><br>`)}</td>
  <td>${c.allowedResources.map((r) => html`<code>${r}</code><br>`)}</td>
  <td>${c.requireMfa ? 'yes' : ''}</td>
</tr>`;
  const option = (value: string, chosen: string) =>
    html`<option value="${value}" ${value === chosen ? 'selected' : ''}>${value}</option>`;
  return consolePage(
    'Clients and resources',
    frame,
    html`<table>
  <thead><tr><th>client_id</th><th>Name</th><th>Kind</th><th>Redirect URIs</th><th>Resources</th><th>Needs MFA</th></tr>
  </thead>
  <tbody>${opts.clients.map(row)}</tbody>
</table>
<h2>Register a client</h2>
<form method="post" action="${ADMIN_PATHS.clients}">
  <input type="hidden" name="form_token" value="${frame.formToken}">
  <label for="name">Name</label><input id="name" name="name" maxlength="200" required value="${v.name}">
  <label for="type">Type</label>
  <select id="type" name="type">${option('confidential', v.type)}${option('public', v.type)}</select>
  <label for="party">Party</label>
  <select id="party" name="party">${option('first', v.party)}${option('third', v.party)}</select>
  ${uriFields(v)}
  <fieldset><legend>Resources</legend>${resourceChoices(opts.resources, v.resources)}</fieldset>
  ${mfaField(v.requireMfa)}
  <button type="submit">Register the client</button>
</form>
<h2>Resources</h2>
<table>
  <thead><tr><th>Identifier</th><th>Name</th><th>Scopes</th></tr></thead>
  <tbody>${opts.resources.map(
    (r) => html`<tr><td><code>${r.id}</code></td><td>${r.name}</td><td>${r.scopes.join(' ')}</td></tr>`,
  )}</tbody>
</table>
<h3>Register a resource</h3>
<form method="post" action="${ADMIN_PATHS.resources}">
  <input type="hidden" name="form_token" value="${frame.formToken}">
  <label for="resource_id">Identifier (an absolute URI)</label>
  <input id="resource_id" name="id" maxlength="2000" required value="${rv.id}">
  <label for="resource_name">Name</label>
  <input id="resource_name" name="name" maxlength="200" required value="${rv.name}">
  <label for="resource_scopes">Scopes (separated by spaces)</label>
  <input id="resource_scopes" name="scopes" maxlength="2000" value="${rv.scopes}">
  <button type="submit">Register the resource</button>
</form>`,
    { ...(opts.notice ? { notice: opts.notice } : {}), ...(opts.error ? { error: opts.error } : {}) },
  );
}

export function clientPage(
  frame: ConsoleFrame,
  client: Client,
  resources: Resource[],
  shown: { values?: ClientFormValues; notice?: string; error?: string },
): string {
  const v = shown.values ?? {
    name: client.name,
    type: client.type,
    party: client.party,
    redirectUris: lines(client.redirectUris),
    postLogoutRedirectUris: lines(client.postLogoutRedirectUris),
    resources: client.allowedResources,
    requireMfa: client.requireMfa,
  };
  const base = clientPath(client.id);
  return consolePage(
    client.name,
    frame,
    html`<dl>
  <dt>client_id</dt><dd><code>${client.id}</code></dd>
  <dt>Kind</dt><dd>${client.type}, ${client.party} party</dd>
  <dt>Authenticates with</dt><dd>${
    client.secretDigest !== null ? 'a secret' : client.type === 'public' ? 'nothing (public)' : 'its keys'
  }</dd>
  <dt>Grant types</dt><dd>${client.grantTypes.join(', ')}</dd>
  <dt>Scopes</dt><dd>${client.allowedScopes.join(' ')}</dd>
  <dt>FedCM origins</dt><dd>${
    client.fedcmOrigins.length > 0 ? client.fedcmOrigins.join(' ') : 'none (FedCM off; the CLI sets them)'
  }</dd>
  <dt>Registered</dt><dd>${when(client.createdAt)}</dd>
</dl>
<h2>Change</h2>
<form method="post" action="${base}">
  <input type="hidden" name="form_token" value="${frame.formToken}">
  ${uriFields(v)}
  <fieldset><legend>Resources</legend>${resourceChoices(resources, v.resources)}</fieldset>
  ${mfaField(v.requireMfa)}
  <button type="submit">Save</button>
</form>
<h2>Secret and removal</h2>
<p>
${client.secretDigest !== null ? action(frame, `${base}/rotate-secret`, 'Rotate the secret') : ''}
${action(frame, `${base}/delete`, 'Delete the client')}
</p>
<p class="muted">A new secret is shown once and the old one stops working at once. Deleting removes its grants,
consents and tokens.</p>
<p><a href="${ADMIN_PATHS.clients}">Back to clients</a></p>`,
    { ...(shown.notice ? { notice: shown.notice } : {}), ...(shown.error ? { error: shown.error } : {}) },
  );
}

/** A new client's or a rotated secret: shown on this one page only, never stored in the clear. */
export function clientSecretPage(frame: ConsoleFrame, client: Client, secret: string | undefined): string {
  return consolePage(
    secret ? 'The client secret' : 'The client is registered',
    frame,
    html`<p>client_id: <code id="client-id">${client.id}</code></p>
${
  secret
    ? html`<p>client_secret: <code id="client-secret">${secret}</code></p>
<p class="error">Copy it now: it is shown this once, and only its digest is kept.</p>`
    : html`<p>This client has no secret.</p>`
}
<p><a href="${clientPath(client.id)}">Go to the client</a></p>`,
  );
}
