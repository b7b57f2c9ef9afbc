/**
 * Changing the email address from the account page, over HTTP with a real SMTP server: only after
 * a fresh sign-in, only once the link mailed to the new address is followed; the old address told
 * without a link; pending reset links voided; two people claiming one address, one wins; bad input
 * refused with no change to stored data.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { browserFlow } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { PASSWORD, registerPerson, sql, useIssuer } from './support/fixture.js';
import { linkIn, useMailbox } from './support/mailbox.js';

const mailbox = useMailbox();
const { idp, fx } = useIssuer({ env: mailbox.env({ TESSERA_TRUST_PROXY: '1' }) });

let nextIp = 0;
const freshIp = () => `192.0.2.${++nextIp}`;

function post(path: string, form: Record<string, string>, jar?: CookieJarClient, origin = new URL(idp.url).origin) {
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'x-forwarded-for': freshIp() },
    body: new URLSearchParams(form),
    redirect: 'manual' as const,
  };
  return jar ? jar.fetch(new URL(path, idp.url), init) : fetch(new URL(path, idp.url), init);
}

/** A browser of `email`'s, just signed in, and its account page's CSRF token. */
async function signedIn(email: string, password = PASSWORD): Promise<{ jar: CookieJarClient; csrf: string }> {
  const jar = createCookieJarClient();
  await browserFlow(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { email, password }, jar);
  const page = await (await jar.fetch(new URL('/account', idp.url))).text();
  expect(page).toContain('<section id="email">');
  return { jar, csrf: formValue(page, 'csrf_token')! };
}

const askToMove = (who: { jar: CookieJarClient; csrf: string }, newEmail: string) =>
  post('/account/email', { csrf_token: who.csrf, new_email: newEmail }, who.jar);

async function confirmLink(link: URL): Promise<Response> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  return post('/account/email/confirm', { token: formValue(await page.text(), 'token') ?? '' });
}

const emailOf = async (sub: string) => (await sql(idp, 'select email from users where id = ?', sub))[0]?.email;

async function changesNothing(act: () => Promise<void>): Promise<void> {
  const before = await tableDigests(idp.issuer.ctx.store.database);
  await act();
  expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
}

describe('a change of email address', () => {
  it('takes effect when the link mailed to the new address is followed, and tells the old one', async () => {
    const person = await registerPerson(idp, 'rosa@example.com', 'Rosa');
    // A reset link asked for before the change went to the old address: it must not outlive it.
    await post('/password/forgot', { email: 'rosa@example.com' });
    const reset = linkIn(await mailbox.next('rosa@example.com'), idp.url, '/password/reset');

    const rosa = await signedIn('rosa@example.com');
    const asked = await askToMove(rosa, 'Rosa.New@Example.com');
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain('Rosa.New@Example.com');
    const mail = await mailbox.next('rosa.new@example.com');
    expect(mail.subject).toBe('Confirm your new email address for Tessera');
    const link = linkIn(mail, idp.url, '/account/email/confirm');
    // Not yet: the address moves only when the link is followed.
    expect(await emailOf(person.sub)).toBe('rosa@example.com');

    const done = await confirmLink(link);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('rosa.new@example.com');
    const [row] = await sql(idp, 'select email, email_verified from users where id = ?', person.sub);
    expect(row?.email).toBe('rosa.new@example.com');
    // The link proved the new address (SQLite answers 1, PostgreSQL true).
    expect(Boolean(row?.email_verified)).toBe(true);

    const notice = await mailbox.next('rosa@example.com');
    expect(notice.subject).toBe('Your Tessera email address was changed');
    expect(notice.text).toContain('rosa.new@example.com');
    // Nothing to click that could undo it silently.
    expect(notice.text).not.toMatch(/https?:\/\//);
    expect(notice.html).not.toContain('<a ');

    expect((await fetch(link)).status).toBe(400);
    expect((await fetch(reset)).status).toBe(400);
    await signedIn('rosa.new@example.com');
    await expect(signedIn('rosa@example.com')).rejects.toThrow(/401/);
  });

  it('asks for a fresh sign-in first, changing nothing', async () => {
    await registerPerson(idp, 'sam@example.com', 'Sam');
    const sam = await signedIn('sam@example.com');
    idp.clock.advance(6 * 60);
    try {
      await changesNothing(async () => {
        const res = await askToMove(sam, 'sam.new@example.com');
        expect(res.status).toBe(303);
        expect(new URL(res.headers.get('location')!, idp.url).pathname).toBe('/sign-in');
      });
      await idp.issuer.ctx.mailer.idle();
      expect(mailbox.to('sam.new@example.com')).toEqual([]);
    } finally {
      idp.clock.advance(-6 * 60);
    }
  });

  it('moves one of two people claiming one address; the other is told it is taken', async () => {
    const [tia, uma] = [await registerPerson(idp, 'tia@example.com'), await registerPerson(idp, 'uma@example.com')];
    for (const who of ['tia@example.com', 'uma@example.com'])
      expect((await askToMove(await signedIn(who), 'shared@example.com')).status).toBe(200);
    const links = [await mailbox.next('shared@example.com'), await mailbox.next('shared@example.com')].map((m) =>
      linkIn(m, idp.url, '/account/email/confirm'),
    );
    const answers = await Promise.all(links.map(confirmLink));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const emails = [await emailOf(tia.sub), await emailOf(uma.sub)];
    expect(emails.filter((e) => e === 'shared@example.com')).toHaveLength(1);
    expect(emails).toContain(answers[0]!.status === 200 ? 'shared@example.com' : 'tia@example.com');
  });

  it('refuses bad input, forged links and cross-site forms, changing nothing', async () => {
    await registerPerson(idp, 'vic@example.com', 'Vic');
    const vic = await signedIn('vic@example.com');
    await changesNothing(async () => {
      for (const [email, says] of [
        ['not-an-address', 'Enter a valid email address'],
        ['', 'Enter a valid email address'],
        ['VIC@example.com', 'That is your address already'],
      ] as const) {
        const res = await askToMove(vic, email);
        expect(res.status, email).toBe(400);
        expect(await res.text()).toContain(says);
      }
      expect((await post('/account/email', { csrf_token: 'wrong', new_email: 'x@example.com' }, vic.jar)).status).toBe(
        403,
      );
      const crossSite = await post(
        '/account/email',
        { csrf_token: vic.csrf, new_email: 'x@example.com' },
        vic.jar,
        'https://evil.example',
      );
      expect(crossSite.status).toBe(403);
      for (const token of ['', 'x', 'A'.repeat(43)]) {
        expect((await fetch(new URL(`/account/email/confirm?token=${token}`, idp.url))).status).toBe(400);
        expect((await post('/account/email/confirm', { token })).status).toBe(400);
      }
    });
  });
});
