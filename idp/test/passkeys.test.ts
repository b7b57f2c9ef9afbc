/**
 * Passkeys against the real issuer over HTTP, with a software authenticator (support/authenticator.ts)
 * standing in for the browser and a platform authenticator: adding one at the account page, signing
 * in with it and no password, and every forgery the issue names refused — audited, with no change
 * to stored data: an assertion for another RP ID or origin, a replayed challenge, a counter that
 * went back, another person's passkey; and what the ceremonies require (user verification, a
 * challenge of this ceremony and this page).
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { SoftwareAuthenticator, FLAGS } from './support/authenticator.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { passkeyOptionsIn } from './support/pages.js';
import { PASSWORD, registerPerson, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string };
  authenticatorSelection: { residentKey: string; userVerification: string };
  excludeCredentials: { id: string }[];
}
interface RequestOptions {
  challenge: string;
  rpId: string;
  userVerification: string;
  allowCredentials?: unknown[];
}

const post = (jar: CookieJarClient, path: string, form: Record<string, string>) =>
  jar.fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.url).origin },
    body: new URLSearchParams(form),
  });

let people = 0;
/** A new person, signed in with their password at the issuer in a browser of their own. */
async function signedInPerson(): Promise<{ jar: CookieJarClient; email: string; sub: string }> {
  const email = `passkey-person-${++people}@example.com`;
  const user = await registerPerson(idp, email, `Person ${people}`);
  const jar = createCookieJarClient();
  const res = await submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), email, 'correct horse battery staple');
  expect(res.status).toBe(303);
  return { jar, email, sub: user.sub };
}

/** The add-a-passkey page: its options and CSRF token. */
async function addPasskeyPage(jar: CookieJarClient): Promise<{ options: CreationOptions; csrfToken: string }> {
  const res = await jar.fetch(new URL('/account/passkeys/new', idp.url));
  expect(res.status).toBe(200);
  const html = await res.text();
  return {
    options: passkeyOptionsIn<CreationOptions>(html, 'data-passkey-registration'),
    csrfToken: formValue(html, 'csrf_token')!,
  };
}

/** Adds a passkey the way the page's script does; returns the issuer's answer. */
async function addPasskey(
  jar: CookieJarClient,
  authenticator: SoftwareAuthenticator,
  o: Parameters<SoftwareAuthenticator['create']>[1] & { name?: string } = {},
): Promise<Response> {
  const { options, csrfToken } = await addPasskeyPage(jar);
  const credential = authenticator.create(options, o);
  return post(jar, '/account/passkeys', {
    csrf_token: csrfToken,
    name: o.name ?? 'Laptop',
    credential: JSON.stringify(credential),
  });
}

/** A person with a passkey on `authenticator` (a new one unless given). */
async function personWithPasskey(o: { counter?: number; synced?: boolean } = {}) {
  const person = await signedInPerson();
  const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
  const res = await addPasskey(person.jar, authenticator, o);
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/account');
  return { ...person, authenticator, credential: authenticator.credentials[0]! };
}

/** An authorization request's sign-in page in a new browser: its passkey form. */
async function passkeySignInPage(jar: CookieJarClient = createCookieJarClient()) {
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }),
    jar,
  );
  const location = locationOf(res, idp.url)!;
  expect(location.pathname).toBe('/sign-in');
  const html = await (await jar.fetch(location)).text();
  return {
    jar,
    html,
    options: passkeyOptionsIn<RequestOptions>(html, 'data-passkey-sign-in'),
    interaction: formValue(html, 'interaction')!,
    csrfToken: formValue(html, 'csrf_token')!,
  };
}

type SignInPage = Awaited<ReturnType<typeof passkeySignInPage>>;

const answer = (page: SignInPage, credential: unknown) =>
  post(page.jar, '/sign-in/passkey', {
    interaction: page.interaction,
    csrf_token: page.csrfToken,
    credential: typeof credential === 'string' ? credential : JSON.stringify(credential),
  });

const passkeyRow = async (id: Buffer | string) =>
  (await sql(idp, 'select * from passkeys where id = ?', typeof id === 'string' ? id : id.toString('base64url')))[0];

const auditTypes = async (type: string) =>
  (await sql(idp, 'select subject, detail from audit_events where type = ? order by id', type)).map((r) => ({
    subject: r.subject,
    detail: storedJson(r.detail) as Record<string, unknown>,
  }));

/** The last refusal of a passkey sign-in the audit trail holds. */
const lastSignInRefusal = async () =>
  (await auditTypes('sign_in.failed')).filter((e) => e.detail.method === 'passkey').at(-1)?.detail;

/**
 * Sends a passkey sign-in that must be refused: 401, the sign-in page again with the one message
 * and no session cookie, the reason audited, no durable table changed.
 */
async function expectRefusedSignIn(page: SignInPage, credential: unknown, reason: string): Promise<void> {
  const before = await tableDigests(idp.issuer.ctx.store.database);
  const res = await answer(page, credential);
  expect(res.status).toBe(401);
  expect(res.headers.get('set-cookie') ?? '').not.toMatch(/session|fedcm/i);
  expect(res.headers.get('set-login')).toBeNull();
  expect(await res.text()).toContain('That passkey could not sign you in.');
  expect(await lastSignInRefusal()).toMatchObject({ reason });
  expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
}

describe('adding a passkey at the account page', () => {
  it('offers a discoverable credential with user verification for the issuer as relying party', async () => {
    const { jar, email, sub } = await signedInPerson();
    const { options } = await addPasskeyPage(jar);
    expect(options.rp).toEqual({ id: '127.0.0.1', name: 'Tessera' });
    expect(options.user.name).toBe(email);
    // The user handle is the opaque sub, never the email (WebAuthn §14.6.1).
    expect(Buffer.from(options.user.id, 'base64url').toString()).toBe(sub);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
  });

  it('stores it under its name, lists it with when it was added and never used, and audits it', async () => {
    const { jar, sub, credential } = await personWithPasskey();
    const row = await passkeyRow(credential.id);
    expect(row).toMatchObject({ user_id: sub, name: 'Laptop', device_type: 'singleDevice', last_used_at: null });
    expect(Number(row!.counter)).toBe(0);
    const html = await (await jar.fetch(new URL('/account', idp.url))).text();
    expect(html).toContain('<h3 id="passkey-0">Laptop</h3>');
    expect(html).toMatch(/<dt>Added<\/dt><dd><time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time><\/dd>/);
    expect(html).toContain('<dt>Last used</dt><dd>Never</dd>');
    expect((await auditTypes('passkey.registered')).at(-1)).toMatchObject({
      subject: sub,
      detail: { credential: credential.id.toString('base64url'), name: 'Laptop' },
    });
    // Its credential id is left out of the next registration's options (WebAuthn §5.4, excludeCredentials).
    const { options } = await addPasskeyPage(jar);
    expect(options.excludeCredentials.map((c) => c.id)).toEqual([credential.id.toString('base64url')]);
  });

  it('records a synced passkey as such', async () => {
    const { credential } = await personWithPasskey({ synced: true });
    expect(await passkeyRow(credential.id)).toMatchObject({ device_type: 'multiDevice' });
  });

  describe('refuses, storing nothing and auditing why,', () => {
    async function expectRefusedRegistration(
      _jar: CookieJarClient,
      send: () => Promise<Response>,
      reason: string,
    ): Promise<void> {
      const before = await tableDigests(idp.issuer.ctx.store.database);
      const res = await send();
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('The passkey could not be added.');
      expect((await auditTypes('passkey.refused')).at(-1)?.detail).toMatchObject({ ceremony: 'registration', reason });
      expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    }

    it('an answer from another origin', async () => {
      const { jar } = await signedInPerson();
      const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
      await expectRefusedRegistration(
        jar,
        () => addPasskey(jar, authenticator, { origin: 'https://idp.example.evil' }),
        'verification_failed',
      );
    });

    it('an answer for another RP ID', async () => {
      const { jar } = await signedInPerson();
      const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
      await expectRefusedRegistration(
        jar,
        () => addPasskey(jar, authenticator, { rpId: 'example.evil' }),
        'verification_failed',
      );
    });

    it('a credential made without user verification', async () => {
      const { jar } = await signedInPerson();
      const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
      await expectRefusedRegistration(
        jar,
        () => addPasskey(jar, authenticator, { flags: FLAGS.UP | FLAGS.AT }),
        'verification_failed',
      );
    });

    it('an answer to a challenge used already', async () => {
      const { jar } = await signedInPerson();
      const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
      const { options, csrfToken } = await addPasskeyPage(jar);
      const form = { csrf_token: csrfToken, name: 'Laptop', credential: JSON.stringify(authenticator.create(options)) };
      expect((await post(jar, '/account/passkeys', form)).status).toBe(303);
      const replayed = { ...form, credential: JSON.stringify(authenticator.create(options)) };
      await expectRefusedRegistration(jar, () => post(jar, '/account/passkeys', replayed), 'unknown_challenge');
    });

    it('an answer to a challenge issued to another person’s session', async () => {
      const alice = await signedInPerson();
      const mallory = await signedInPerson();
      const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
      const { options } = await addPasskeyPage(alice.jar);
      const { csrfToken } = await addPasskeyPage(mallory.jar);
      const form = {
        csrf_token: csrfToken,
        name: 'Planted',
        credential: JSON.stringify(authenticator.create(options)),
      };
      await expectRefusedRegistration(
        mallory.jar,
        () => post(mallory.jar, '/account/passkeys', form),
        'unknown_challenge',
      );
    });

    it('a credential another person registered already', async () => {
      const victim = await personWithPasskey();
      const other = await signedInPerson();
      // An authenticator answering with the victim's credential id (under a key of its own).
      const copier = new SoftwareAuthenticator(new URL(idp.url).origin, victim.credential.id);
      const { options, csrfToken } = await addPasskeyPage(other.jar);
      const form = { csrf_token: csrfToken, name: 'Copy', credential: JSON.stringify(copier.create(options)) };
      await expectRefusedRegistration(
        other.jar,
        () => post(other.jar, '/account/passkeys', form),
        'credential_registered',
      );
      expect(await passkeyRow(victim.credential.id)).toMatchObject({ user_id: victim.sub });
    });

    it('a malformed answer, without a server error', async () => {
      const { jar } = await signedInPerson();
      const { csrfToken } = await addPasskeyPage(jar);
      for (const credential of ['', 'not json', '{}', '{"id":"a","rawId":"a","response":{}}', '[1]']) {
        await expectRefusedRegistration(
          jar,
          () => post(jar, '/account/passkeys', { csrf_token: csrfToken, name: 'Laptop', credential }),
          'malformed_response',
        );
      }
    });
  });

  it('asks again for a name that is empty or too long, storing nothing', async () => {
    const { jar } = await signedInPerson();
    const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
    for (const name of ['   ', 'x'.repeat(65)]) {
      const res = await addPasskey(jar, authenticator, { name });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('Give the passkey a name of at most 64 characters.');
    }
    expect(
      await sql(idp, 'select id from passkeys where id = ?', authenticator.credentials[0]!.id.toString('base64url')),
    ).toEqual([]);
  });

  it('needs a session and this session’s CSRF token', async () => {
    const anonymous = createCookieJarClient();
    const page = await anonymous.fetch(new URL('/account/passkeys/new', idp.url));
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/sign-in');
    const { jar } = await signedInPerson();
    const res = await post(jar, '/account/passkeys', { csrf_token: 'forged', name: 'x', credential: '{}' });
    expect(res.status).toBe(403);
  });
});

describe('signing in with a passkey', () => {
  it('is offered on the sign-in page by autofill and a button, run by the issuer’s script', async () => {
    const page = await passkeySignInPage();
    expect(page.html).toMatch(/<input id="email" name="email" type="email" autocomplete="username webauthn"/);
    expect(page.html).toContain('<button type="button" hidden>Sign in with a passkey</button>');
    expect(page.options).toMatchObject({ rpId: '127.0.0.1', userVerification: 'required' });
    expect(page.options.allowCredentials ?? []).toEqual([]);
    expect(page.html).toMatch(/<script type="module" src="\/assets\/passkeys.js" nonce="[^"]+"><\/script>/);
    const script = await fetch(new URL('/assets/passkeys.js', idp.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('navigator.credentials');
  });

  it('signs in with no password, and the app gets a code for that person', async () => {
    const { sub, authenticator, credential } = await personWithPasskey();
    const page = await passkeySignInPage();
    const res = await answer(page, authenticator.get(page.options));
    expect(res.status).toBe(303);
    const callback = new URL(res.headers.get('location')!);
    expect(callback.href.startsWith(fx.redirectUri)).toBe(true);
    expect(res.headers.get('set-cookie')).toMatch(/session/i);
    // FedCM: the FedCM cookie and the Login Status API's header come with the session.
    expect(res.headers.getSetCookie().some((c) => c.startsWith('tessera_fedcm='))).toBe(true);
    expect(res.headers.get('set-login')).toBe('logged-in');
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    const row = await passkeyRow(credential.id);
    expect(Number(row!.last_used_at)).toBeGreaterThan(0);
    expect((await auditTypes('sign_in.succeeded')).at(-1)).toMatchObject({
      subject: sub,
      detail: { method: 'passkey', credential: credential.id.toString('base64url') },
    });
  });

  it('lands on the account page when signing in at the issuer itself', async () => {
    const { authenticator } = await personWithPasskey();
    const jar = createCookieJarClient();
    const html = await (await jar.fetch(new URL('/sign-in', idp.url))).text();
    const page = {
      jar,
      html,
      options: passkeyOptionsIn<RequestOptions>(html, 'data-passkey-sign-in'),
      interaction: formValue(html, 'interaction')!,
      csrfToken: formValue(html, 'csrf_token')!,
    };
    const res = await answer(page, authenticator.get(page.options));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
  });

  it('moves the signature counter forwards with each use', async () => {
    const { authenticator, credential } = await personWithPasskey({ counter: 10 });
    for (const expected of [11, 12]) {
      const page = await passkeySignInPage();
      expect((await answer(page, authenticator.get(page.options))).status).toBe(303);
      expect(Number((await passkeyRow(credential.id))!.counter)).toBe(expected);
    }
  });

  describe('refuses, audited and changing nothing stored,', () => {
    it('an assertion for another RP ID', async () => {
      const { authenticator } = await personWithPasskey();
      const page = await passkeySignInPage();
      await expectRefusedSignIn(page, authenticator.get(page.options, { rpId: 'example.evil' }), 'verification_failed');
    });

    it('an assertion made at another origin', async () => {
      const { authenticator } = await personWithPasskey();
      const page = await passkeySignInPage();
      await expectRefusedSignIn(
        page,
        authenticator.get(page.options, { origin: 'https://idp.example.evil' }),
        'verification_failed',
      );
    });

    it('an assertion of the right origin but another scheme or port', async () => {
      const { authenticator } = await personWithPasskey();
      const origin = new URL(idp.url);
      for (const other of [`https://${origin.host}`, `http://${origin.hostname}:1`]) {
        const page = await passkeySignInPage();
        await expectRefusedSignIn(page, authenticator.get(page.options, { origin: other }), 'verification_failed');
      }
    });

    it('a replayed challenge: an answer used already, or sent to another sign-in page', async () => {
      const { authenticator } = await personWithPasskey();
      const first = await passkeySignInPage();
      const used = authenticator.get(first.options);
      expect((await answer(first, used)).status).toBe(303);
      // On its own page the interaction is over: refused before any ceremony.
      const before = await tableDigests(idp.issuer.ctx.store.database);
      expect((await answer(first, used)).status).toBe(400);
      expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
      const another = await passkeySignInPage();
      await expectRefusedSignIn(another, used, 'unknown_challenge');
      // A fresh signature over the first page's challenge, sent with the next page's form.
      const elsewhere = await passkeySignInPage();
      await expectRefusedSignIn(elsewhere, authenticator.get(first.options), 'unknown_challenge');
    });

    it('a challenge that has expired', async () => {
      const { authenticator } = await personWithPasskey();
      const page = await passkeySignInPage();
      idp.clock.advance(5 * 60 + 1);
      try {
        await expectRefusedSignIn(page, authenticator.get(page.options), 'unknown_challenge');
      } finally {
        idp.clock.advance(-(5 * 60 + 1));
      }
    });

    it('a counter that went back or stood still (a cloned authenticator), auditing the regression', async () => {
      const { sub, authenticator, credential } = await personWithPasskey({ counter: 20 });
      const page = await passkeySignInPage();
      expect((await answer(page, authenticator.get(page.options))).status).toBe(303);
      const id = credential.id.toString('base64url');
      for (const counter of [5, 21]) {
        const clone = await passkeySignInPage();
        await expectRefusedSignIn(clone, authenticator.get(clone.options, { counter }), 'counter_regressed');
        expect((await auditTypes('passkey.counter_regressed')).at(-1)).toEqual({
          subject: sub,
          detail: { credential: id, stored: 21, presented: counter },
        });
      }
      expect(Number((await passkeyRow(credential.id))!.counter)).toBe(21);
    });

    it('another person’s passkey presented as this person’s (a user handle that is not its owner’s)', async () => {
      const alice = await personWithPasskey();
      const bob = await personWithPasskey();
      const page = await passkeySignInPage();
      const aliceHandle = Buffer.from(alice.sub).toString('base64url');
      await expectRefusedSignIn(
        page,
        bob.authenticator.get(page.options, { userHandle: aliceHandle }),
        'user_handle_mismatch',
      );
      const again = await passkeySignInPage();
      await expectRefusedSignIn(
        again,
        bob.authenticator.get(again.options, { userHandle: null }),
        'user_handle_mismatch',
      );
    });

    it('an assertion without user verification', async () => {
      const { authenticator } = await personWithPasskey();
      const page = await passkeySignInPage();
      await expectRefusedSignIn(page, authenticator.get(page.options, { flags: FLAGS.UP }), 'verification_failed');
    });

    it('a credential the issuer does not know', async () => {
      const stranger = new SoftwareAuthenticator(new URL(idp.url).origin);
      stranger.create({ challenge: 'x', rp: { id: '127.0.0.1' }, user: { id: 'nobody' } });
      const page = await passkeySignInPage();
      await expectRefusedSignIn(page, stranger.get(page.options), 'unknown_credential');
    });

    it('a signature by another key under a registered credential id', async () => {
      const { credential } = await personWithPasskey();
      const impostor = new SoftwareAuthenticator(new URL(idp.url).origin, credential.id);
      impostor.create({ challenge: 'x', rp: { id: '127.0.0.1' }, user: { id: credential.userHandle } });
      const page = await passkeySignInPage();
      await expectRefusedSignIn(page, impostor.get(page.options), 'verification_failed');
    });

    it('malformed answers, without a server error', async () => {
      for (const credential of ['', 'null', '{"id":"%%%"}', '{"id":"abc","rawId":"abd","response":{}}']) {
        const page = await passkeySignInPage();
        await expectRefusedSignIn(page, credential, 'malformed_response');
      }
    });
  });

  it('refuses a form from another site or without the page’s CSRF token, before any ceremony', async () => {
    const { authenticator } = await personWithPasskey();
    const page = await passkeySignInPage();
    const credential = JSON.stringify(authenticator.get(page.options));
    const res = await post(page.jar, '/sign-in/passkey', {
      interaction: page.interaction,
      csrf_token: 'x',
      credential,
    });
    expect(res.status).toBe(403);
    // The challenge was not used up by the refused form: the real one still signs in.
    expect((await answer(page, credential)).status).toBe(303);
  });
});

describe('the account page’s passkeys', () => {
  it('renames and removes one, each audited', async () => {
    const { jar, sub, credential } = await personWithPasskey();
    const id = credential.id.toString('base64url');
    const csrfToken = formValue(await (await jar.fetch(new URL('/account', idp.url))).text(), 'csrf_token')!;
    const renamed = await post(jar, '/account/passkeys/rename', { csrf_token: csrfToken, passkey: id, name: 'Phone' });
    expect(renamed.status).toBe(303);
    expect(await passkeyRow(id)).toMatchObject({ name: 'Phone' });
    expect((await auditTypes('passkey.renamed')).at(-1)).toEqual({
      subject: sub,
      detail: { credential: id, name: 'Phone' },
    });
    const removed = await post(jar, '/account/passkeys/remove', { csrf_token: csrfToken, passkey: id });
    expect(removed.status).toBe(303);
    expect(await passkeyRow(id)).toBeUndefined();
    expect((await auditTypes('passkey.removed')).at(-1)).toEqual({ subject: sub, detail: { credential: id } });
    expect(await (await jar.fetch(new URL('/account', idp.url))).text()).toContain('You have no passkeys yet.');
  });

  it('refuses to rename or remove another person’s passkey, changing nothing', async () => {
    const victim = await personWithPasskey();
    const { jar } = await signedInPerson();
    const csrfToken = formValue(await (await jar.fetch(new URL('/account', idp.url))).text(), 'csrf_token')!;
    const id = victim.credential.id.toString('base64url');
    const before = await tableDigests(idp.issuer.ctx.store.database);
    for (const [path, extra] of [
      ['/account/passkeys/rename', { name: 'Mine now' }],
      ['/account/passkeys/remove', {}],
    ] as const) {
      const res = await post(jar, path, { csrf_token: csrfToken, passkey: id, ...extra });
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('Your account has no such passkey.');
    }
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    expect((await auditTypes('passkey.refused')).slice(-2).map((e) => e.detail)).toEqual([
      { action: 'rename', reason: 'unknown_credential', credential: id.slice(0, 64) },
      { action: 'remove', reason: 'unknown_credential', credential: id.slice(0, 64) },
    ]);
  });

  it('shows a hostile name only as text', async () => {
    const person = await signedInPerson();
    const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
    expect((await addPasskey(person.jar, authenticator, { name: '<img src=x onerror=alert(1)>' })).status).toBe(303);
    const html = await (await person.jar.fetch(new URL('/account', idp.url))).text();
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
  });
});

/** Signs in at the confidential client with the passkey and redeems the code: the ID token's claims. */
async function idTokenAfterPasskeySignIn(authenticator: SoftwareAuthenticator): Promise<Record<string, unknown>> {
  const jar = createCookieJarClient();
  const { verifier, challenge } = pkcePair();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }, { code_challenge: challenge }),
    jar,
  );
  const html = await (await jar.fetch(locationOf(res, idp.url)!)).text();
  const page = {
    jar,
    html,
    options: passkeyOptionsIn<RequestOptions>(html, 'data-passkey-sign-in'),
    interaction: formValue(html, 'interaction')!,
    csrfToken: formValue(html, 'csrf_token')!,
  };
  const signedIn = await answer(page, authenticator.get(page.options));
  const code = new URL(signedIn.headers.get('location')!).searchParams.get('code')!;
  const tokens = await redeem(
    idp.url,
    { code, code_verifier: verifier, redirect_uri: fx.redirectUri },
    { id: fx.confidential.id, secret: fx.confidential.secret },
  );
  expect(tokens.status).toBe(200);
  return JSON.parse(Buffer.from((tokens.json.id_token as string).split('.')[1]!, 'base64url').toString());
}

describe('a passkey sign-in and the tokens it leads to', () => {
  it('states a device-bound passkey with user verification: hwk, user, mfa — phishing-resistant', async () => {
    const { authenticator, sub } = await personWithPasskey();
    const claims = await idTokenAfterPasskeySignIn(authenticator);
    expect(claims.sub).toBe(sub);
    // RFC 8176 §2: the server's record of the sign-in, never anything the request asked for.
    expect(claims.amr).toEqual(['hwk', 'user', 'mfa']);
    expect(claims.acr).toBe('phr');
    expect(claims.auth_time).toEqual(expect.any(Number));
  });

  it('states a synced passkey as swk', async () => {
    const { authenticator } = await personWithPasskey({ synced: true });
    const claims = await idTokenAfterPasskeySignIn(authenticator);
    expect(claims.amr).toEqual(['swk', 'user', 'mfa']);
    expect(claims.acr).toBe('phr');
  });
});

describe('the fresh sign-in that adding and removing a passkey need', () => {
  const FRESH_WINDOW_S = 5 * 60;

  async function afterWindow<T>(run: () => Promise<T>): Promise<T> {
    idp.clock.advance(FRESH_WINDOW_S + 1);
    try {
      return await run();
    } finally {
      idp.clock.advance(-(FRESH_WINDOW_S + 1));
    }
  }

  it('sends a session signed in too long ago to sign in again, and back to the add-a-passkey page', async () => {
    const { jar, email } = await signedInPerson();
    const signIn = await afterWindow(async () => {
      const res = await jar.fetch(new URL('/account/passkeys/new', idp.url));
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!, idp.url);
      expect(location.pathname).toBe('/sign-in');
      const again = await submitSignIn(jar, idp.url, location, email, 'correct horse battery staple');
      expect(again.status).toBe(303);
      return again;
    });
    expect(signIn.headers.get('location')).toBe('/account/passkeys/new');
    expect((await jar.fetch(new URL('/account/passkeys/new', idp.url))).status).toBe(200);
  });

  it('refuses a registration sent by a session signed in too long ago, storing nothing and auditing it', async () => {
    const { jar, sub } = await signedInPerson();
    const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
    const { options, csrfToken } = await addPasskeyPage(jar);
    const form = { csrf_token: csrfToken, name: 'Late', credential: JSON.stringify(authenticator.create(options)) };
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await afterWindow(() => post(jar, '/account/passkeys', form));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, idp.url).pathname).toBe('/sign-in');
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    expect((await auditTypes('passkey.refused')).at(-1)).toMatchObject({
      subject: sub,
      detail: { action: 'register', reason: 'sign_in_not_fresh' },
    });
  });

  it('brings a registration the gate stopped back to its page with a note, and never replays it', async () => {
    const { jar, sub, email } = await signedInPerson();
    const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
    const { options, csrfToken } = await addPasskeyPage(jar);
    const form = { csrf_token: csrfToken, name: 'Late', credential: JSON.stringify(authenticator.create(options)) };
    const back = await afterWindow(async () => {
      const res = await post(jar, '/account/passkeys', form);
      const signIn = await submitSignIn(jar, idp.url, new URL(res.headers.get('location')!, idp.url), email, PASSWORD);
      return signIn.headers.get('location');
    });
    expect(back).toBe('/account/passkeys/new?again=1');
    // Signed in again, the registration was not made for the person: they make it again.
    expect(await idp.issuer.ctx.store.passkeys.listForUser(sub)).toEqual([]);
    const page = await (await jar.fetch(new URL(back!, idp.url))).text();
    expect(page).toContain('Your sign-in was too old to add a passkey, so none was added. Create it again.');
    expect(await (await jar.fetch(new URL('/account/passkeys/new', idp.url))).text()).not.toContain('too old');
  });

  it('brings a removal the gate stopped back to the account page, the passkey still there', async () => {
    const { jar, sub, email, credential } = await personWithPasskey();
    const csrfToken = formValue(await (await jar.fetch(new URL('/account', idp.url))).text(), 'csrf_token')!;
    const id = credential.id.toString('base64url');
    const back = await afterWindow(async () => {
      const res = await post(jar, '/account/passkeys/remove', { csrf_token: csrfToken, passkey: id });
      const signIn = await submitSignIn(jar, idp.url, new URL(res.headers.get('location')!, idp.url), email, PASSWORD);
      return signIn.headers.get('location');
    });
    expect(back).toBe('/account?again=1');
    expect((await idp.issuer.ctx.store.passkeys.listForUser(sub)).map((p) => p.id)).toEqual([id]);
  });

  it('refuses to remove a passkey for a session signed in too long ago', async () => {
    const { jar, credential } = await personWithPasskey();
    const csrfToken = formValue(await (await jar.fetch(new URL('/account', idp.url))).text(), 'csrf_token')!;
    const id = credential.id.toString('base64url');
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await afterWindow(() => post(jar, '/account/passkeys/remove', { csrf_token: csrfToken, passkey: id }));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, idp.url).pathname).toBe('/sign-in');
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    expect((await auditTypes('passkey.refused')).at(-1)?.detail).toMatchObject({ action: 'remove' });
  });

  it('counts a passkey sign-in as fresh', async () => {
    const { jar, authenticator } = await personWithPasskey();
    await afterWindow(async () => {
      const res = await jar.fetch(new URL('/account/passkeys/new', idp.url));
      const location = new URL(res.headers.get('location')!, idp.url);
      const html = await (await jar.fetch(location)).text();
      const page = {
        jar,
        html,
        options: passkeyOptionsIn<RequestOptions>(html, 'data-passkey-sign-in'),
        interaction: formValue(html, 'interaction')!,
        csrfToken: formValue(html, 'csrf_token')!,
      };
      const signedIn = await answer(page, authenticator.get(page.options));
      expect(signedIn.headers.get('location')).toBe('/account/passkeys/new');
      expect((await jar.fetch(new URL('/account/passkeys/new', idp.url))).status).toBe(200);
    });
  });
});
