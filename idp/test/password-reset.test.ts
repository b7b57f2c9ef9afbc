/**
 * Password reset over HTTP, with a real SMTP server: the link mailed, the new password set, every
 * session ended with back-channel logout to each app and every refresh token revoked; a used,
 * expired, voided or forged link refused with a clear page and no change to stored data; the
 * request page the same for known and unknown addresses; throttling per address and per IP.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, formValue } from '@tessera/shared/testing';
import { basicAuth, browserFlow, postToken, signInAndRedeem } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { countRows, registerPerson, registerWebClient, sql, storedJson, useIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';
import { linkIn, useMailbox } from './support/mailbox.js';

const mailbox = useMailbox();
const { idp, fx } = useIssuer({
  // One proxy in front, so each test speaks from an IP of its own (the throttle counts per IP).
  env: mailbox.env({ TESSERA_TRUST_PROXY: '1' }),
  issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } },
});
const appA = new LogoutReceiver();
const appB = new LogoutReceiver();
const A = { id: 'reset-app-a', name: 'Reset App A', secret: 'reset-app-a-secret-0123456789abcdef' };
const B = { id: 'reset-app-b', name: 'Reset App B', secret: 'reset-app-b-secret-0123456789abcdef' };
const NEW_PASSWORD = 'violet marmalade orbits the tundra';
const SCOPE = 'openid profile email offline_access';

beforeAll(async () => {
  await Promise.all([appA.start(), appB.start()]);
  for (const [client, rp] of [
    [A, appA],
    [B, appB],
  ] as const)
    await registerWebClient(idp, fx, client, { scopes: SCOPE.split(' '), backchannelLogoutUri: rp.url });
});
afterAll(() => {
  appA.stop();
  appB.stop();
});

let nextIp = 0;
/** An address of its own for each caller, so throttle counts never carry from one test to another. */
const freshIp = () => `198.51.100.${++nextIp}`;

function post(path: string, form: Record<string, string>, ip: string, headers: Record<string, string> = {}) {
  return fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(idp.url).origin,
      'x-forwarded-for': ip,
      ...headers,
    },
    body: new URLSearchParams(form),
    redirect: 'manual',
  });
}

const askForLink = (email: string, ip = freshIp()) => post('/password/forgot', { email }, ip);

/** Asks for a link for `email` and returns the one the mail carries. */
async function resetLink(email: string, ip = freshIp()): Promise<URL> {
  expect((await askForLink(email, ip)).status).toBe(200);
  return linkIn(await mailbox.next(email), idp.url, '/password/reset');
}

const submitNewPassword = (link: URL, password = NEW_PASSWORD, confirmation = password) =>
  post(
    '/password/reset',
    { token: link.searchParams.get('token') ?? '', password, password_confirmation: confirmation },
    freshIp(),
  );

const refresh = (client: { id: string; secret: string }, refreshToken: string) =>
  postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { authorization: basicAuth(client.id, client.secret) },
  );

const signInAt = (client: { id: string; secret: string }, email: string) =>
  signInAndRedeem(idp.url, { clientId: client.id, redirectUri: fx.redirectUri, auth: client, email, scope: SCOPE });

/** A page without its CSP nonce, which differs in every response. */
const withoutNonce = (html: string) => html.replace(/nonce="[^"]*"/g, 'nonce=""');

/** Runs `act` and shows it changed no durable table. */
async function changesNothing(act: () => Promise<void>): Promise<void> {
  const before = await tableDigests(idp.issuer.ctx.store.database);
  await act();
  expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
}

describe('a password reset', () => {
  it('mails a link that sets a new password, ending every session in both apps and every refresh token', async () => {
    const person = await registerPerson(idp, 'carol@example.com', 'Carol');
    const atA = await signInAt(A, 'carol@example.com');
    const atB = await signInAt(B, 'carol@example.com');
    const sids = [atA, atB].map((s) => decodeJwt(s.tokens.id_token as string).sid);

    // The sign-in page leads to the request page.
    const signInPage = await (await fetch(new URL('/sign-in', idp.url))).text();
    expect(signInPage).toMatch(/<a href="\/password\/forgot\?interaction=[\w-]+">Forgot your password\?<\/a>/);

    expect((await askForLink('Carol@Example.com')).status).toBe(200);
    const mail = await mailbox.next('carol@example.com');
    expect(mail.subject).toBe('Reset your Tessera password');
    for (const body of [mail.text, mail.html]) expect(body).toContain('Tessera');
    expect(mail.text).toContain('30 minutes');
    const link = linkIn(mail, idp.url, '/password/reset');
    expect(mail.html).toContain(`href="${link.href}"`);

    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(formValue(html, 'token')).toBe(link.searchParams.get('token'));
    expect(html).toContain('carol@example.com');

    const done = await submitNewPassword(link);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Your password is changed');

    // Each app hears of its session's end (OIDC Back-Channel Logout 1.0 §2.5)…
    await eventually(() => appA.tokens.some((t) => decodeJwt(t).sid === sids[0]));
    await eventually(() => appB.tokens.some((t) => decodeJwt(t).sid === sids[1]));
    // … and no refresh token of the old sessions works any more.
    expect((await refresh(A, atA.tokens.refresh_token as string)).json.error).toBe('invalid_grant');
    expect((await refresh(B, atB.tokens.refresh_token as string)).json.error).toBe('invalid_grant');

    // The old password is refused, the new one signs in.
    await expect(signInAt(A, 'carol@example.com')).rejects.toThrow(/sign-in did not redirect: 401/);
    const flowWithNew = await browserFlow(
      idp.url,
      { clientId: A.id, redirectUri: fx.redirectUri, scope: SCOPE },
      { email: 'carol@example.com', password: NEW_PASSWORD },
    );
    expect(flowWithNew.callback.searchParams.get('code')).toBeTruthy();

    const [event] = await sql(idp, "select * from audit_events where type = 'password.reset'");
    expect(event).toMatchObject({ subject: person.sub });
    expect(storedJson(event!.detail)).toEqual({ sessions: 2, accessTokens: 2 });

    // The link was used: it opens nothing now, and changes nothing.
    await changesNothing(async () => {
      const dead = await fetch(link);
      expect(dead.status).toBe(400);
      expect(await dead.text()).toContain('This link no longer works');
      expect((await submitNewPassword(link, 'another long passphrase for me')).status).toBe(400);
    });
  });

  it('answers the same for an address with no account, and mails nothing there', async () => {
    await registerPerson(idp, 'dave@example.com', 'Dave');
    const known = await askForLink('dave@example.com');
    const unknown = await askForLink('nobody-here@example.com');
    expect(unknown.status).toBe(known.status);
    expect(withoutNonce(await unknown.text())).toBe(withoutNonce(await known.text()));
    await mailbox.next('dave@example.com');
    await idp.issuer.ctx.mailer.idle();
    expect(mailbox.to('nobody-here@example.com')).toEqual([]);
    // The same work was done for both: a link stored each time (the unknown one resets nobody).
    expect(await countRows(idp, 'email_links', "email = 'nobody-here@example.com' and user_id is null")).toBe(1);
    expect(await countRows(idp, 'email_links', "email = 'dave@example.com'")).toBe(1);
  });

  it('takes one of two concurrent submissions of a link, and voids older links', async () => {
    await registerPerson(idp, 'erin@example.com', 'Erin');
    const older = await resetLink('erin@example.com');
    const link = await resetLink('erin@example.com');
    // The newer link voided the older.
    expect((await fetch(older)).status).toBe(400);
    const answers = await Promise.all([
      submitNewPassword(link),
      submitNewPassword(link, 'a different long passphrase'),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await countRows(idp, 'audit_events', "type = 'password.reset'")).toBe(2);
  });

  it('refuses an expired link with a clear page, changing nothing', async () => {
    await registerPerson(idp, 'frank@example.com', 'Frank');
    const link = await resetLink('frank@example.com');
    idp.clock.advance(30 * 60);
    try {
      await changesNothing(async () => {
        const page = await fetch(link);
        expect(page.status).toBe(400);
        expect(await page.text()).toContain('This link no longer works');
        expect((await submitNewPassword(link)).status).toBe(400);
      });
    } finally {
      idp.clock.advance(-30 * 60);
    }
  });
});

describe('bad input', () => {
  it('refuses a new password that differs, is short or is common, keeping the link good', async () => {
    await registerPerson(idp, 'grace@example.com', 'Grace');
    const link = await resetLink('grace@example.com');
    await changesNothing(async () => {
      for (const [password, confirmation, says] of [
        [NEW_PASSWORD, `${NEW_PASSWORD}!`, 'not the same'],
        ['short one', 'short one', 'at least 15 characters'],
        ['password12345678', 'password12345678', 'too common'],
        ['grace@example.com', 'grace@example.com', 'your email address or your name'],
      ] as const) {
        const res = await submitNewPassword(link, password, confirmation);
        expect(res.status, password).toBe(400);
        const html = await res.text();
        expect(html).toContain(says);
        expect(formValue(html, 'token')).toBe(link.searchParams.get('token'));
      }
    });
    expect((await submitNewPassword(link)).status).toBe(200);
  });

  it('refuses forged tokens, malformed addresses and cross-site forms, changing nothing', async () => {
    await changesNothing(async () => {
      for (const token of ['', 'x', 'A'.repeat(43), `${'A'.repeat(42)}\u0000`, 'A'.repeat(5000)]) {
        const url = new URL('/password/reset', idp.url);
        url.searchParams.set('token', token);
        expect((await fetch(url)).status, token.slice(0, 10)).toBe(400);
        expect((await submitNewPassword(url)).status).toBe(400);
      }
      expect((await fetch(new URL('/password/reset', idp.url))).status).toBe(400);
      for (const email of ['', 'no-at-sign', 'a@', `${'a'.repeat(400)}@example.com`, 'two words@example.com']) {
        const res = await askForLink(email);
        expect(res.status, email.slice(0, 10)).toBe(400);
        expect(await res.text()).toContain('Enter the email address you sign in with.');
      }
      const crossSite = await post('/password/forgot', { email: 'alice@example.com' }, freshIp(), {
        origin: 'https://evil.example',
      });
      expect(crossSite.status).toBe(403);
      const wrongType = await fetch(new URL('/password/forgot', idp.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: new URL(idp.url).origin },
        body: '{"email":"alice@example.com"}',
      });
      expect(wrongType.status).toBe(400);
    });
    await idp.issuer.ctx.mailer.idle();
    expect(mailbox.to('alice@example.com')).toEqual([]);
  });
});

describe('throttling', () => {
  it('mails an address three links in a row, then answers the same and mails nothing', async () => {
    await registerPerson(idp, 'heidi@example.com', 'Heidi');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(withoutNonce(await (await askForLink('heidi@example.com')).text()));
    expect(new Set(answers).size).toBe(1);
    await idp.issuer.ctx.mailer.idle();
    expect(mailbox.to('heidi@example.com')).toHaveLength(3);
    mailbox.skipAll();
    expect(await countRows(idp, 'audit_events', "type = 'password_reset.throttled'")).toBeGreaterThanOrEqual(2);
    // The wait ends on its own.
    idp.clock.advance(60);
    try {
      await askForLink('heidi@example.com');
      await mailbox.next('heidi@example.com');
    } finally {
      idp.clock.advance(-60);
    }
  });

  it('mails from one IP ten times, to any addresses, then no more', async () => {
    const ip = freshIp();
    const people = [];
    for (let i = 0; i < 11; i++) people.push(await registerPerson(idp, `ivan${i}@example.com`, `Ivan ${i}`));
    for (const person of people) expect((await askForLink(person.email, ip)).status).toBe(200);
    await idp.issuer.ctx.mailer.idle();
    expect(people.map((p) => mailbox.to(p.email).length)).toEqual([...Array(10).fill(1), 0]);
    // Another IP is not held back by this one.
    await askForLink(people[10]!.email);
    await mailbox.next(people[10]!.email);
  });
});
