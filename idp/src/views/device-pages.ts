/** The device page (RFC 8628 §3.3): entering a user code, then approving or denying the device. */
import { ISSUER_PATHS } from '@tessera/shared';
import { html } from '@tessera/shared/node';
import { page } from './page.js';
import { SCOPE_TEXT } from './pages.js';

const STYLE = `
  input[name=user_code] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1.4rem;
    letter-spacing: .15em; text-transform: uppercase; font-family: ui-monospace, monospace; }
  .code { font-family: ui-monospace, monospace; font-size: 1.3rem; letter-spacing: .1em; }
`;

/** The form for the code the device shows. */
export function enterCodePage(opts: { csrfToken: string; userEmail: string; error?: string; code?: string }): string {
  return page(
    'Connect a device',
    html`<h1>Connect a device</h1>
<p class="muted">Signed in as ${opts.userEmail}</p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="${ISSUER_PATHS.device}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <label for="user_code">Enter the code shown on your device</label>
  <input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false"
    placeholder="XXXX-XXXX" maxlength="16" required autofocus value="${opts.code ?? ''}">
  <button type="submit">Continue</button>
</form>`,
    { style: STYLE },
  );
}

/** Which app asks, on which device, for what: approve or deny. */
export function approveDevicePage(opts: {
  csrfToken: string;
  userEmail: string;
  clientName: string;
  userCode: string;
  device: string;
  ip: string;
  minutesAgo: number;
  scopes: string[];
}): string {
  return page(
    'Connect a device',
    html`<h1>${opts.clientName} wants to sign in on a device</h1>
<p class="muted">Signed in as ${opts.userEmail}</p>
<p>Requested ${opts.minutesAgo < 1 ? 'just now' : `${opts.minutesAgo} min ago`} from <strong>${opts.device}</strong>
(${opts.ip}) with the code <span class="code">${opts.userCode}</span>.</p>
<p>${opts.clientName} will be able to:</p>
<ul>${opts.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s} <span class="muted">(${s})</span></li>`)}</ul>
<p><strong>Only approve if you started this yourself, just now, and your device shows this code.</strong>
Someone may have sent you their code to get into your account.</p>
<form method="post" action="${ISSUER_PATHS.device}">
  <input type="hidden" name="csrf_token" value="${opts.csrfToken}">
  <input type="hidden" name="user_code" value="${opts.userCode}">
  <div class="row">
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </div>
</form>`,
    { style: STYLE },
  );
}

/** The end of the page's work: the device goes on, or is refused. */
export function deviceDecidedPage(approved: boolean, clientName: string): string {
  return page(
    approved ? 'Device connected' : 'Device refused',
    approved
      ? html`<h1>Device connected</h1><p>${clientName} is signed in on your device. You can close this window.</p>`
      : html`<h1>Device refused</h1><p>${clientName} was not given access. You can close this window.</p>`,
  );
}
