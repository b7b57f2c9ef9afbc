/**
 * The issuer's messages, each in plain text and HTML with the same words. Every one names the
 * product, and the app the person came from when there is one, so a message nobody asked for
 * stands out; every link is on the issuer's own origin, built from the configured issuer
 * identifier and never from a request's Host header (which an attacker chooses: a reset link to
 * their host would hand them the token).
 */
import type { MailMessage } from './mailer.js';

export const PRODUCT = 'Tessera';

/** An absolute link to `path` on the issuer, with `query`: only ever the issuer's own origin. */
export function issuerLink(issuer: string, path: string, query: Record<string, string> = {}): string {
  const url = new URL(new URL(issuer).origin);
  // Set as the path, never resolved against the origin: `//host/…` would resolve to another host.
  url.pathname = path;
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.href;
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

interface Content {
  to: string;
  subject: string;
  /** Paragraphs of plain text (escaped for the HTML body). */
  paragraphs: string[];
  /** The one link the message is for, shown as a button and in full. */
  action?: { label: string; url: string };
  /** Said last: what to do if the person did not ask for this. */
  closing: string;
}

function compose(c: Content): MailMessage {
  const text = [
    ...c.paragraphs,
    ...(c.action ? [`${c.action.label}:\n${c.action.url}`] : []),
    c.closing,
    `— ${PRODUCT}`,
  ].join('\n\n');
  const p = (s: string) => `<p>${escapeHtml(s)}</p>`;
  const html = [
    '<!doctype html><html><body style="font-family: system-ui, sans-serif; line-height: 1.5">',
    ...c.paragraphs.map(p),
    ...(c.action
      ? [
          `<p><a href="${escapeHtml(c.action.url)}">${escapeHtml(c.action.label)}</a></p>`,
          `<p style="color: #666; font-size: 0.9em">${escapeHtml(c.action.url)}</p>`,
        ]
      : []),
    p(c.closing),
    `<p>— ${PRODUCT}</p>`,
    '</body></html>',
  ].join('\n');
  return { to: c.to, subject: c.subject, text, html };
}

/** "…for Web App" when the person came from an app, nothing otherwise. */
const forApp = (appName: string | undefined) => (appName ? ` (you were signing in to ${appName})` : '');

const minutesOrHours = (seconds: number) =>
  seconds >= 3600 && seconds % 3600 === 0
    ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`
    : `${Math.round(seconds / 60)} minutes`;

export function passwordResetMessage(m: { to: string; url: string; lifetime: number; appName?: string }): MailMessage {
  return compose({
    to: m.to,
    subject: `Reset your ${PRODUCT} password`,
    paragraphs: [
      `Someone asked to reset the password of the ${PRODUCT} account of this address${forApp(m.appName)}.`,
      `The link works once, for ${minutesOrHours(m.lifetime)}. Resetting the password signs you out everywhere.`,
    ],
    action: { label: 'Choose a new password', url: m.url },
    closing: 'If you did not ask for this, ignore this message: your password stays as it is.',
  });
}

export function emailVerificationMessage(m: { to: string; url: string; lifetime: number; name: string }): MailMessage {
  return compose({
    to: m.to,
    subject: `Confirm your email address for ${PRODUCT}`,
    paragraphs: [
      `Hello ${m.name}, a ${PRODUCT} account was created with this address.`,
      `Confirm that the address is yours to sign in with it. The link works once, for ${minutesOrHours(m.lifetime)}.`,
    ],
    action: { label: 'Confirm my email address', url: m.url },
    closing: 'If you did not create this account, ignore this message: without confirmation it cannot be used.',
  });
}

/** Sign-up with an address that has an account already: that person is told, nobody else learns it. */
export function accountExistsMessage(m: { to: string; signInUrl: string; resetUrl: string }): MailMessage {
  return compose({
    to: m.to,
    subject: `You already have a ${PRODUCT} account`,
    paragraphs: [
      `Someone tried to create a ${PRODUCT} account with this address, which has one already.`,
      `To sign in, go to ${m.signInUrl}. If you forgot your password, choose a new one at ${m.resetUrl}.`,
    ],
    closing: 'If it was not you, ignore this message: nothing changed in your account.',
  });
}

export function invitationMessage(m: { to: string; url: string; lifetime: number }): MailMessage {
  return compose({
    to: m.to,
    subject: `You are invited to ${PRODUCT}`,
    paragraphs: [
      `You are invited to create a ${PRODUCT} account with this address.`,
      `The link works once, for ${minutesOrHours(m.lifetime)}.`,
    ],
    action: { label: 'Create my account', url: m.url },
    closing: 'If you did not expect this, ignore this message.',
  });
}

/** To the new address: the link that moves the account there. */
export function emailChangeMessage(m: { to: string; url: string; lifetime: number; name: string }): MailMessage {
  return compose({
    to: m.to,
    subject: `Confirm your new email address for ${PRODUCT}`,
    paragraphs: [
      `Hello ${m.name}, you asked to sign in to ${PRODUCT} with this address from now on.`,
      `The change takes effect when you confirm it. The link works once, for ${minutesOrHours(m.lifetime)}.`,
    ],
    action: { label: 'Confirm the new address', url: m.url },
    closing: 'If you did not ask for this, ignore this message: your account keeps its address.',
  });
}

/**
 * To the old address, once the change is done: said plainly, with no link (a link that undid the
 * change would be one more way to take the account, and an attacker who changed it would ignore it).
 */
export function emailChangedNotice(m: { to: string; newEmail: string; name: string }): MailMessage {
  return compose({
    to: m.to,
    subject: `Your ${PRODUCT} email address was changed`,
    paragraphs: [
      `Hello ${m.name}, your ${PRODUCT} account now signs in with ${m.newEmail} instead of this address.`,
      'Mail about the account, password reset links included, goes to the new address from now on.',
    ],
    closing:
      'If you did not make this change, your account may be in someone else’s hands: contact the ' +
      'people who run this service now.',
  });
}
