/**
 * The second-factor pages: the factor page after a password (or to step up a session), the page
 * for a person who has no factor to give, and the TOTP enrolment and recovery-code pages of the
 * account. No JavaScript, but for the factor page's passkey: its ceremony runs in the issuer's page
 * script (../browser/passkeys.ts), which shows the button; the code forms work without it.
 */
import { html, raw, type Html } from '@tessera/shared/node';
import { page } from './page.js';

const STYLE = `
  input[inputmode=numeric], input.code { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1.1rem;
    letter-spacing: .1rem; font-family: ui-monospace, monospace; }
  .qr svg { width: 12rem; height: 12rem; background: #fff; padding: .5rem; }
  .secret { font-family: ui-monospace, monospace; word-break: break-all; }
  .codes { font-family: ui-monospace, monospace; columns: 2; }
  details { margin-top: 1rem; }
`;

const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}">`;

/**
 * The factor page's passkey form: its button appears once the page script knows the browser can use
 * passkeys; the answer goes in `credential`. Without script only the code forms work, so a person
 * with no code is told why nothing is offered.
 */
function passkeyFactorForm(opts: {
  interactionId: string;
  csrfToken: string;
  passkey: { action: string; options: unknown };
  codes: boolean;
}): Html {
  return html`<form method="post" action="${opts.passkey.action}" data-passkey-factor data-options="${JSON.stringify(
    opts.passkey.options,
  )}">
  ${hidden('interaction', opts.interactionId)}${hidden('csrf_token', opts.csrfToken)}${hidden('credential', '')}
  <button type="button" hidden>Use a passkey</button>
  <p class="muted" data-passkey-status role="status"></p>
</form>
${opts.codes ? '' : html`<noscript><p>Using a passkey needs JavaScript: turn it on for this page.</p></noscript>`}`;
}

export function secondFactorPage(opts: {
  interactionId: string;
  csrfToken: string;
  action: string;
  totp: boolean;
  recoveryCodes: number;
  /** The person's passkeys can be used: where the answer goes, and the request options (with a stored challenge). */
  passkey?: { action: string; options: unknown };
  clientName?: string;
  error?: string;
}): string {
  const form = (method: 'totp' | 'recovery', body: ReturnType<typeof html>) => html`<form method="post" action="${
    opts.action
  }">
  ${hidden('interaction', opts.interactionId)}${hidden('csrf_token', opts.csrfToken)}${hidden('method', method)}
  ${body}
</form>`;
  return page(
    'Second step',
    html`<h1>Confirm it’s you</h1>
${opts.clientName ? html`<p>to continue to <strong>${opts.clientName}</strong></p>` : ''}
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
${opts.passkey ? passkeyFactorForm({ ...opts, passkey: opts.passkey, codes: opts.totp || opts.recoveryCodes > 0 }) : ''}
${
  opts.totp
    ? form(
        'totp',
        html`<label for="totp-code">Code from your authenticator app</label>
  <input id="totp-code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6"
    autocomplete="one-time-code" required autofocus>
  <button type="submit">Continue</button>`,
      )
    : ''
}
${
  opts.recoveryCodes > 0
    ? html`<details${opts.totp ? '' : html` open`}><summary>Use a recovery code</summary>${form(
        'recovery',
        html`<label for="recovery-code">Recovery code</label>
  <input id="recovery-code" name="code" class="code" autocomplete="off" required>
  <button type="submit">Continue</button>`,
      )}</details>`
    : ''
}
<form method="post" action="${opts.action}">
  ${hidden('interaction', opts.interactionId)}${hidden('csrf_token', opts.csrfToken)}
  <button type="submit" name="cancel" value="1">Cancel</button>
</form>`,
    { style: STYLE, script: opts.passkey !== undefined },
  );
}

export function noSecondFactorPage(opts: {
  interactionId: string;
  csrfToken: string;
  action: string;
  clientName?: string;
}): string {
  return page(
    'A second step is needed',
    html`<h1>A second step is needed</h1>
<p>${opts.clientName ? html`<strong>${opts.clientName}</strong>` : 'This'} asks for a second step when you sign in,
and your account has none yet.</p>
<p><a href="/account">Add a passkey or set up an authenticator app on your account page</a>, then sign in to the app
again.</p>
<form method="post" action="${opts.action}">
  ${hidden('interaction', opts.interactionId)}${hidden('csrf_token', opts.csrfToken)}
  <button type="submit" name="cancel" value="1">Back to the app</button>
</form>`,
  );
}

/** After a recovery code: how many remain, and on to where the sign-in was going. */
export function recoveryCodeUsedPage(opts: { remaining: number; next: string }): string {
  return page(
    'Recovery code used',
    html`<h1>Recovery code used</h1>
<p role="status">You have <strong>${String(opts.remaining)}</strong> recovery code${
      opts.remaining === 1 ? '' : 's'
    } left.${opts.remaining <= 3 ? html` Make new ones on your <a href="/account">account page</a>.` : ''}</p>
<p><a href="${opts.next}">Continue</a></p>`,
  );
}

/** TOTP enrolment: the QR code (SVG rendered here) and the secret, then the first code. */
export function totpEnrolmentPage(opts: { csrfToken: string; qrSvg: string; secret: string; error?: string }): string {
  return page(
    'Set up an authenticator app',
    html`<h1>Set up an authenticator app</h1>
<p>Scan this code with your authenticator app, or enter the key by hand.</p>
<div class="qr">${raw(opts.qrSvg)}</div>
<p>Key: <span class="secret" id="totp-secret">${opts.secret}</span></p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/account/totp/confirm">
  ${hidden('csrf_token', opts.csrfToken)}
  <label for="totp-code">Code the app shows</label>
  <input id="totp-code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6"
    autocomplete="one-time-code" required autofocus>
  <label><input type="checkbox" name="end_other_sessions" value="1"> Sign out my other sessions</label>
  <button type="submit">Turn on</button>
</form>
<p><a href="/account">Cancel</a></p>`,
    { style: STYLE },
  );
}

/** New recovery codes, shown this once. */
export function recoveryCodesPage(opts: { codes: string[] }): string {
  return page(
    'Recovery codes',
    html`<h1>Your recovery codes</h1>
<p>Each code signs you in once when you cannot use your authenticator app. Keep them somewhere safe:
they are shown only now. Any codes you had before no longer work.</p>
<ul class="codes" id="recovery-codes">${opts.codes.map((c) => html`<li>${c}</li>`)}</ul>
<p><a href="/account">Done</a></p>`,
    { style: STYLE },
  );
}
