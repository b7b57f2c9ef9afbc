/**
 * Passkeys on the issuer's pages: the sign-in page's passkey form, the account page's list, and
 * the page that adds one. The ceremonies run in the issuer's script (../browser/passkeys.ts),
 * which reads its options from the form's data-options and posts the answer in the form.
 */
import { html, type Html } from '@tessera/shared/node';
import type { Passkey } from '../store/index.js';
import { PASSKEY_NAME_MAX } from '../protocol/passkeys.js';
import { page } from './page.js';

/** "2025-03-04 17:05 UTC": one unambiguous zone for every reader, whatever the server's. */
const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const when = (ms: number) => html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time>`;

/**
 * The sign-in page's passkey form: its button appears once the script knows the browser can use
 * passkeys; the answer to the challenge goes in `credential`.
 */
export function passkeySignInForm(opts: { interactionId: string; csrfToken: string; passkeyOptions: unknown }): Html {
  return html`<form method="post" action="/sign-in/passkey" data-passkey-sign-in data-options="${JSON.stringify(
    opts.passkeyOptions,
  )}">
  <input type="hidden" name="interaction" value="${opts.interactionId}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <input type="hidden" name="credential" value="">
  <button type="button" hidden>Sign in with a passkey</button>
  <p class="muted" data-passkey-status role="status"></p>
</form>`;
}

/** The account page's passkeys: each with its name, when it was added and last used, rename and remove. */
export function passkeysSection(opts: { csrfToken: string; passkeys: Passkey[] }): Html {
  const item = (p: Passkey, i: number) => html`<li>
  <h3 id="passkey-${i}">${p.name}</h3>
  <dl>
    <dt>Added</dt><dd>${when(p.createdAt)}</dd>
    <dt>Last used</dt><dd>${p.lastUsedAt === null ? 'Never' : when(p.lastUsedAt)}</dd>
    <dt>Kind</dt><dd>${p.deviceType === 'multiDevice' ? 'Synced passkey' : 'Passkey on one device'}</dd>
  </dl>
  <form method="post" action="/account/passkeys/rename">
    <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
    <input type="hidden" name="passkey" value="${p.id}">
    <label for="passkey-name-${i}">New name</label>
    <input id="passkey-name-${i}" name="name" required maxlength="${PASSKEY_NAME_MAX}" value="${p.name}">
    <button type="submit" aria-describedby="passkey-${i}">Rename</button>
  </form>
  <form method="post" action="/account/passkeys/remove">
    <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
    <input type="hidden" name="passkey" value="${p.id}">
    <button type="submit" aria-describedby="passkey-${i}">Remove this passkey</button>
  </form>
</li>`;
  return html`<h2>Passkeys</h2>
<p class="muted">Sign in with your fingerprint, face or screen lock instead of your password.</p>
${
  opts.passkeys.length === 0
    ? html`<p>You have no passkeys yet.</p>`
    : html`<ul class="passkeys">${opts.passkeys.map(item)}</ul>`
}
<p><a href="/account/passkeys/new">Add a passkey</a></p>`;
}

/** The page that creates a passkey: its name, and the browser's dialog. */
export function addPasskeyPage(opts: { csrfToken: string; options: unknown; error?: string; note?: string }): string {
  return page(
    'Add a passkey',
    html`<h1>Add a passkey</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
${opts.note ? html`<p role="status" id="passkey-note">${opts.note}</p>` : ''}
<form method="post" action="/account/passkeys" data-passkey-registration data-options="${JSON.stringify(opts.options)}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <input type="hidden" name="credential" value="">
  <label for="passkey-name">Name</label>
  <input id="passkey-name" name="name" required maxlength="${PASSKEY_NAME_MAX}" value="My passkey">
  <p class="muted">A name to tell it from your other passkeys, such as the device that holds it.</p>
  <button type="submit" hidden>Create passkey</button>
  <p class="muted" data-passkey-status role="status"></p>
</form>
<p><a href="/account">Back to your account</a></p>`,
    { script: true },
  );
}
