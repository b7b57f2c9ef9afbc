/** The account page: the person's signed-in devices, each with a sign-out button, and their passkeys. No JavaScript. */
import type { DeviceListing } from '../protocol/devices.js';
import type { SecondFactors } from '../protocol/second-factor.js';
import { html, type Html } from '@tessera/shared/node';
import { page } from './page.js';
import { passwordAndDeletionSection } from './password-pages.js';

/** "2025-03-04 17:05 UTC": one unambiguous zone for every reader, whatever the server's. */
const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const when = (ms: number) => html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time>`;

// The shell's box is sized for a form; a list of devices needs a little more room.
const STYLE = `
  main { width: min(36rem, 92vw); }
  .devices, .passkeys { list-style: none; padding: 0; }
  .devices li, .passkeys li { border-top: 1px solid #8884; padding: .8rem 0; }
  .devices dl, .passkeys dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; margin: .5rem 0 0; }
  .devices dt, .passkeys dt { color: #888; }
  .devices dd, .passkeys dd { margin: 0; }
  .devices button, .passkeys button { margin-top: .6rem; }
  .badge {
    font-size: .8rem; border: 1px solid currentColor; border-radius: 999px; padding: 0 .5rem; margin-left: .4rem;
  }
`;

/** RFC 8176 values as a person reads them. */
const METHOD_NAMES: Record<string, string> = {
  pwd: 'password',
  otp: 'one-time code',
  hwk: 'passkey',
  swk: 'passkey',
};

/** "password + one-time code": the methods a session was signed in with. */
export const describeMethods = (amr: readonly string[]): string =>
  [...new Set(amr.map((m) => METHOD_NAMES[m]).filter((m) => m !== undefined))].join(' + ') || 'unknown';

export function accountPage(opts: {
  displayName: string;
  email: string;
  csrfToken: string;
  devices: DeviceListing[];
  /** The passkeys section (./passkey-pages.ts). */
  passkeys: Html;
  factors: SecondFactors;
  /** The email address section (./email-change-pages.ts). */
  emailSection?: Html;
}): string {
  const csrf = html`<input type="hidden" name="csrf_token" value="${opts.csrfToken}">`;
  const endOthers = html`<label><input type="checkbox" name="end_other_sessions" value="1">
    Sign out my other sessions</label>`;
  const device = (d: DeviceListing, i: number) => html`<li>
  <h3 id="device-${i}">${d.description}${d.current ? html`<span class="badge">This device</span>` : ''}</h3>
  <dl>
    <dt>IP address</dt><dd>${d.ip}</dd>
    <dt>Signed in</dt><dd>${when(d.createdAt)}</dd>
    <dt>Last active</dt><dd>${when(d.lastSeenAt)}</dd>
    <dt>Signed in with</dt><dd>${describeMethods(d.amr)}</dd>
  </dl>
  <form method="post" action="/account/devices/${d.sid}/end">
    <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
    <button type="submit" aria-describedby="device-${i}">Sign out this device</button>
  </form>
</li>`;
  return page(
    'Your account',
    html`<h1>Your account</h1>
<p>Signed in as <strong>${opts.displayName}</strong> (${opts.email}).</p>
${opts.emailSection ?? ''}
<h2>Sign-in security</h2>
<section id="second-factor">
${
  opts.factors.totp
    ? html`<p>Authenticator app: <strong>on</strong>. Signing in asks for a code from it after your password.</p>
<form method="post" action="/account/totp/remove">${csrf}${endOthers}
  <button type="submit">Turn off the authenticator app</button>
</form>`
    : html`<p>Authenticator app: <strong>off</strong>. Add one so that a password alone cannot sign in as you.</p>
<p><a href="/account/totp">Set up an authenticator app</a></p>`
}
<p>Recovery codes left: <strong>${String(opts.factors.recoveryCodes)}</strong></p>
<form method="post" action="/account/recovery-codes">${csrf}${endOthers}
  <button type="submit">Make new recovery codes</button>
  <p class="muted">New codes replace any you had.</p>
</form>
</section>
<h2>Devices</h2>
<p class="muted">Signing out a device also signs it out of the apps it used there.</p>
<ul class="devices">${opts.devices.map(device)}</ul>
<form method="post" action="/account/sign-out-everywhere">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <button type="submit" aria-describedby="everywhere-help">Sign out everywhere</button>
  <p id="everywhere-help" class="muted">Signs you out on every device listed here, this one included.</p>
</form>
${opts.passkeys}
${passwordAndDeletionSection()}
<p><a href="/">Home</a></p>`,
    { style: STYLE },
  );
}
