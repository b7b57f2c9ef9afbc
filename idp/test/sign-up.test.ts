/**
 * Sign-up over HTTP with a real SMTP server, under each policy: an open sign-up mails a link that
 * verifies the address, and sign-in is refused until then; an address with an account gets the
 * same page (its owner a mail); invite-only sign-up goes through the CLI's invitation link;
 * closed sign-up has no form; bad input is refused and changes nothing.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formValue } from '@tessera/shared/testing';
import { browserFlow, signInAndRedeem, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { countRows, registerWebClient, type RunningIssuer, startIssuer, useIssuer } from './support/fixture.js';
import { runCli } from './support/issuer-process.js';
import { linkIn, useMailbox } from './support/mailbox.js';
import { createCookieJarClient } from '@tessera/shared/testing';

const mailbox = useMailbox();
const { idp, fx } = useIssuer({ env: mailbox.env({ TESSERA_TRUST_PROXY: '1' }) });
const APP = { id: 'sign-up-app', name: 'Sign-up App', secret: 'sign-up-app-secret-0123456789abcdef' };
const PASSWORD = 'lantern pebble meadow kettle';

beforeAll(async () => {
  await registerWebClient(idp, fx, APP);
});

let nextIp = 0;
const freshIp = () => `203.0.113.${++nextIp}`;

function post(
  running: RunningIssuer,
  path: string,
  form: Record<string, string>,
  origin = new URL(running.url).origin,
) {
  return fetch(new URL(path, running.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'x-forwarded-for': freshIp() },
    body: new URLSearchParams(form),
  });
}

const signUp = (form: Record<string, string>, running = idp) => post(running, '/sign-up', form);

/** A page without its CSP nonce, which differs in every response. */
const withoutNonce = (html: string) => html.replace(/nonce="[^"]*"/g, 'nonce=""');

async function changesNothing(running: RunningIssuer, act: () => Promise<void>): Promise<void> {
  const before = await tableDigests(running.issuer.ctx.store.database);
  await act();
  expect(await tableDigests(running.issuer.ctx.store.database)).toEqual(before);
}

/** Follows a verification link as a person does: the page, then its button. */
async function confirm(link: URL): Promise<Response> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  return post(idp, '/email/verify', { token: formValue(await page.text(), 'token') ?? '' });
}

const signInAtApp = (email: string, password = PASSWORD) =>
  browserFlow(idp.url, { clientId: APP.id, redirectUri: fx.redirectUri }, { email, password });

describe('open sign-up', () => {
  it('is linked from the sign-in page', async () => {
    const page = await (await fetch(new URL('/sign-in', idp.url))).text();
    expect(page).toContain('<a href="/sign-up">Create an account</a>');
  });

  it('mails a link that verifies the address; until it is followed, sign-in is refused, a new link sent', async () => {
    const form = await fetch(new URL('/sign-up', idp.url));
    expect(form.status).toBe(200);
    const res = await signUp({ name: 'Judy', email: 'Judy@Example.com', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your email');
    const first = await mailbox.next('judy@example.com');
    expect(first.subject).toBe('Confirm your email address for Tessera');
    expect(first.html).toContain('Tessera');
    linkIn(first, idp.url, '/email/verify');
    expect(await countRows(idp, 'users', "email = 'judy@example.com' and email_verified = false")).toBe(1);

    // The right password, an unverified address: refused, with what to do, and a new link mailed.
    const refused = await signInAtApp('judy@example.com').catch((e: Error) => e.message);
    expect(refused).toMatch(/sign-in did not redirect: 401/);
    expect(refused).toContain('Confirm your email address first');
    const again = await mailbox.next('judy@example.com');
    const link = linkIn(again, idp.url, '/email/verify');
    // The newer link voided the first.
    expect((await fetch(linkIn(first, idp.url, '/email/verify'))).status).toBe(400);

    // Opening the link uses nothing (a mail scanner may fetch it); its button does.
    await changesNothing(idp, async () => {
      expect((await fetch(link)).status).toBe(200);
    });
    const verified = await confirm(link);
    expect(verified.status).toBe(200);
    expect(await verified.text()).toContain('Your email address is confirmed');
    expect((await fetch(link)).status).toBe(400);

    // Verified, the person signs in to the app.
    const flow = await signInAtApp('judy@example.com');
    expect(flow.callback.searchParams.get('code')).toBeTruthy();
  });

  it('answers an address that has an account as a new one, and mails its owner instead', async () => {
    const known = await signUp({ name: 'Someone', email: 'alice@example.com', password: PASSWORD });
    const fresh = await signUp({ name: 'Kim', email: 'kim@example.com', password: PASSWORD });
    expect(known.status).toBe(fresh.status);
    expect(withoutNonce(await known.text())).toBe(withoutNonce(await fresh.text()));
    const toOwner = await mailbox.next('alice@example.com');
    expect(toOwner.subject).toBe('You already have a Tessera account');
    expect(toOwner.text).toContain(`${idp.url}/password/forgot`);
    await mailbox.next('kim@example.com');
    expect(await countRows(idp, 'users', "email = 'alice@example.com'")).toBe(1);
  });

  it('creates one account when two sign-ups race for an address', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map((i) => signUp({ name: `Leo ${i}`, email: 'leo@example.com', password: PASSWORD })),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await countRows(idp, 'users', "email = 'leo@example.com'")).toBe(1);
  });

  it('gives apps email_verified from the store', async () => {
    // Alice was registered by an operator (the seed), who vouches for the address.
    const { tokens } = await signInAndRedeem(idp.url, {
      clientId: APP.id,
      redirectUri: fx.redirectUri,
      auth: APP,
      scope: 'openid email',
    });
    expect(decodeJwt(tokens.access_token as string)).toMatchObject({
      email: 'alice@example.com',
      email_verified: true,
    });
    const info = await fetch(new URL('/userinfo', idp.url), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await info.json()).toMatchObject({ email: 'alice@example.com', email_verified: true });
  });

  it('refuses bad input with a clear error, changing nothing', async () => {
    await changesNothing(idp, async () => {
      for (const [form, says] of [
        [{ name: '', email: 'mia@example.com', password: PASSWORD }, 'Enter your name'],
        [{ name: 'x'.repeat(201), email: 'mia@example.com', password: PASSWORD }, 'Enter your name'],
        [{ name: 'Mia', email: 'not-an-address', password: PASSWORD }, 'Enter a valid email address'],
        [{ name: 'Mia', email: 'mia@example.com', password: 'short' }, 'at least 15 characters'],
        [{ name: 'Mia', email: 'mia@example.com', password: 'password12345678' }, 'too common'],
        [{ name: 'Mia', email: 'mia@example.com', password: 'mia@example.com' }, 'your email address or your name'],
        [{ name: 'Mia', email: 'mia@example.com', password: PASSWORD, invitation: 'forged' }, 'no longer works'],
      ] as const) {
        const res = await signUp(form);
        expect(res.status, says).toBe(400);
        expect(await res.text()).toContain(says);
      }
      expect(
        (
          await post(
            idp,
            '/sign-up',
            { name: 'Mia', email: 'mia@example.com', password: PASSWORD },
            'https://evil.example',
          )
        ).status,
      ).toBe(403);
      for (const token of ['', 'x', 'A'.repeat(43)]) {
        expect((await fetch(new URL(`/email/verify?token=${token}`, idp.url))).status).toBe(400);
        expect((await post(idp, '/email/verify', { token })).status).toBe(400);
      }
    });
    await idp.issuer.ctx.mailer.idle();
    expect(mailbox.to('mia@example.com')).toEqual([]);
  });
});

describe('invite-only sign-up', () => {
  let invite: RunningIssuer;
  beforeAll(async () => {
    invite = await startIssuer({ env: mailbox.env({ TESSERA_SIGN_UP: 'invite' }) });
  });
  afterAll(() => invite.cleanup());

  it('has no form without an invitation', async () => {
    expect((await fetch(new URL('/sign-up', invite.url))).status).toBe(400);
    await changesNothing(invite, async () => {
      expect((await signUp({ name: 'Ned', email: 'ned@example.com', password: PASSWORD }, invite)).status).toBe(400);
    });
    expect(await (await fetch(new URL('/sign-in', invite.url))).text()).not.toContain('/sign-up');
  });

  it('signs up the invited address through the CLI’s link, verified, once', async () => {
    const cli = await runCli(invite.database, ['users', 'invite', 'Olga@Example.com'], {
      ...mailbox.env({ TESSERA_ISSUER: invite.url, TESSERA_SIGN_UP: 'invite' }),
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('mailed Olga@Example.com an invitation');
    const mail = await mailbox.next('olga@example.com');
    expect(mail.subject).toBe('You are invited to Tessera');
    const link = linkIn(mail, invite.url, '/sign-up');
    const page = await (await fetch(link)).text();
    expect(page).toContain('value="olga@example.com" readonly');

    const token = link.searchParams.get('invitation')!;
    // The address is the invitation's, whatever the form says.
    const res = await signUp(
      { name: 'Olga', email: 'someone-else@example.com', password: PASSWORD, invitation: token },
      invite,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Your account is ready');
    expect(await countRows(invite, 'users', "email = 'olga@example.com' and email_verified = true")).toBe(1);
    expect(await countRows(invite, 'users', "email = 'someone-else@example.com'")).toBe(0);
    const signedIn = await submitSignIn(
      createCookieJarClient(),
      invite.url,
      new URL('/sign-in', invite.url),
      'olga@example.com',
      PASSWORD,
    );
    expect(signedIn.status).toBe(303);

    await changesNothing(invite, async () => {
      expect((await fetch(link)).status).toBe(400);
      expect((await signUp({ name: 'Olga', email: '', password: PASSWORD, invitation: token }, invite)).status).toBe(
        400,
      );
    });
  });

  it('refuses to invite an address that has an account', async () => {
    const cli = await runCli(invite.database, ['users', 'invite', 'olga@example.com'], {
      ...mailbox.env({ TESSERA_ISSUER: invite.url, TESSERA_SIGN_UP: 'invite' }),
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('has an account already');
  });
});

describe('closed sign-up', () => {
  it('has no form, takes no account, and the CLI refuses to invite', async () => {
    const closed = await startIssuer({ env: mailbox.env({ TESSERA_SIGN_UP: 'closed' }) });
    try {
      expect((await fetch(new URL('/sign-up', closed.url))).status).toBe(404);
      await changesNothing(closed, async () => {
        expect((await signUp({ name: 'Pat', email: 'pat@example.com', password: PASSWORD }, closed)).status).toBe(404);
      });
      const cli = await runCli(closed.database, ['users', 'invite', 'pat@example.com'], {
        ...mailbox.env({ TESSERA_ISSUER: closed.url, TESSERA_SIGN_UP: 'closed' }),
      });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('sign-up is closed');
    } finally {
      await closed.cleanup();
    }
  });
});
