/**
 * The development mail viewer's pages (/dev/mail): the outbox's messages, and one message. A
 * message's HTML body is shown as escaped source, never as markup of the viewer's page; the links
 * of its text body are made clickable only when they are on the issuer's own origin.
 */
import { html } from '@tessera/shared/node';
import type { OutboxMessage } from '../mail/outbox.js';
import { page } from './page.js';

const STYLE = `
  main { width: min(48rem, 94vw); }
  pre { white-space: pre-wrap; word-break: break-all; background: #8881; padding: .8rem; border-radius: 6px; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: .3rem .5rem; border-top: 1px solid #8884; vertical-align: top; }
`;

export function mailListPage(messages: Pick<OutboxMessage, 'name' | 'to' | 'subject' | 'date'>[]): string {
  return page(
    'Mail',
    html`<h1>Mail sent by this issuer</h1>
<p class="muted">Development only: without TESSERA_SMTP_URL, mail goes to the outbox directory instead of out.</p>
${
  messages.length === 0
    ? html`<p>No mail yet.</p>`
    : html`<table>${messages.map(
        (m) => html`<tr><td>${m.date?.toISOString() ?? ''}</td><td>${m.to}</td>
<td><a href="/dev/mail/${m.name}">${m.subject || '(no subject)'}</a></td></tr>`,
      )}</table>`
}`,
    { style: STYLE },
  );
}

/** The text body, with the issuer's own links clickable and everything else as text. */
function textWithLinks(text: string, issuerOrigin: string) {
  return text
    .split(/(https?:\/\/[^\s<>"]+)/)
    .map((part) => (part.startsWith(`${issuerOrigin}/`) ? html`<a href="${part}">${part}</a>` : part));
}

/** The HTML body as its source, escaped: the viewer's page never renders a message's markup. */
const htmlSource = (source: string | undefined) =>
  source === undefined ? '' : html`<details><summary>HTML body (source)</summary><pre>${source}</pre></details>`;

export function mailMessagePage(message: OutboxMessage, issuerOrigin: string): string {
  return page(
    message.subject || 'Mail',
    html`<p><a href="/dev/mail">All mail</a></p>
<h1>${message.subject || '(no subject)'}</h1>
<p class="muted">From ${message.from}<br>To ${message.to}<br>${message.date?.toISOString() ?? ''}</p>
<pre>${textWithLinks(message.text, issuerOrigin)}</pre>
${htmlSource(message.html)}`,
    { style: STYLE },
  );
}
