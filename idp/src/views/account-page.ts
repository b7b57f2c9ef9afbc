/** The account page: the person's signed-in devices, each with a sign-out button, and their passkeys. No JavaScript. */
import type { DeviceListing } from '../protocol/devices.js';
import { html, type Html } from '@tessera/shared/node';
import { page } from './page.js';

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

export function accountPage(opts: {
  displayName: string;
  email: string;
  csrfToken: string;
  devices: DeviceListing[];
  /** The passkeys section (./passkey-pages.ts). */
  passkeys: Html;
}): string {
  const device = (d: DeviceListing, i: number) => html`<li>
  <h3 id="device-${i}">${d.description}${d.current ? html`<span class="badge">This device</span>` : ''}</h3>
  <dl>
    <dt>IP address</dt><dd>${d.ip}</dd>
    <dt>Signed in</dt><dd>${when(d.createdAt)}</dd>
    <dt>Last active</dt><dd>${when(d.lastSeenAt)}</dd>
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
<h2>Devices</h2>
<p class="muted">Signing out a device also signs it out of the apps it used there.</p>
<ul class="devices">${opts.devices.map(device)}</ul>
<form method="post" action="/account/sign-out-everywhere">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <button type="submit" aria-describedby="everywhere-help">Sign out everywhere</button>
  <p id="everywhere-help" class="muted">Signs you out on every device listed here, this one included.</p>
</form>
${opts.passkeys}
<p><a href="/">Home</a></p>`,
    { style: STYLE },
  );
}
