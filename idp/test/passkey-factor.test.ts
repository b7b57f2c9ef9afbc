/**
 * A passkey as the second factor after a password. Over real HTTP: the factor page offers the
 * person's passkeys (a challenge bound to the interaction and its person, before any session
 * exists) beside the code forms, which still work without JavaScript; the answer completes the
 * sign-in like a code does, with the passkey's methods in the ID token; a person with a passkey and
 * no authenticator app completes a require-MFA client's sign-in with it. The attacks — another
 * person's passkey, a replayed or expired challenge, a sign-in page's challenge, another origin or RP
 * ID, a counter that went back — are each refused, audited, and change no stored data. And at the
 * protocol level: the ceremony lists the person's passkeys, and its challenge is good only for its
 * binding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { ACR_PHISHING_RESISTANT } from '@tessera/shared';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import {
  CHALLENGE_TTL_MS,
  PasskeyRefused,
  provePasskeyFactor,
  startPasskeyFactor,
  type PasskeyFactorBinding,
} from '../src/protocol/passkeys.js';
import { registerClient } from '../src/protocol/registration.js';
import { startTotpEnrolment } from '../src/protocol/second-factor.js';
import { addFactorToSession } from '../src/protocol/sso-session.js';
import type { SsoSession } from '../src/store/index.js';
import { FLAGS, SoftwareAuthenticator } from './support/authenticator.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { passkeyOptionsIn } from './support/pages.js';
import { PASSWORD, registerPerson, registration, sql, storedJson, useIssuer } from './support/fixture.js';

/** What the software authenticator answers, as a page's passkey form carries it. */
type RequestOptions = Parameters<SoftwareAuthenticator['get']>[0] & Record<string, unknown>;

const { idp, fx } = useIssuer();
const STRICT = { id: 'strict-passkey-app', redirectUri: 'http://127.0.0.1:9/callback' };

beforeAll(async () => {
  await registerClient(registration(idp), {
    id: STRICT.id,
    name: 'Strict App',
    type: 'public',
    party: 'first',
    redirectUris: [STRICT.redirectUri],
    scopes: ['openid', 'profile', 'email'],
    resources: [fx.api.id],
    requireMfa: true,
  });
});

const post = (jar: CookieJarClient, path: string, form: Record<string, string>) =>
  jar.fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.url).origin },
    body: new URLSearchParams(form),
  });

interface Person {
  email: string;
  sub: string;
  authenticator: SoftwareAuthenticator;
  /** The authenticator app's key, base32, when they turned one on. */
  totpSecret?: string;
}

let people = 0;
/**
 * A person who added a passkey at the account page (signed in with their password in a browser
 * of their own), with an authenticator app too when `totp`. `counter`: where the passkey's
 * signature counter starts (0: it keeps none).
 */
async function personWithPasskey(o: { totp?: boolean; counter?: number } = {}): Promise<Person> {
  const email = `passkey-factor-${++people}@example.com`;
  const { sub } = await registerPerson(idp, email);
  const jar = createCookieJarClient();
  expect((await submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), email, PASSWORD)).status).toBe(303);
  const html = await (await jar.fetch(new URL('/account/passkeys/new', idp.url))).text();
  const options = passkeyOptionsIn(html, 'data-passkey-registration') as unknown as Parameters<
    SoftwareAuthenticator['create']
  >[0];
  const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
  const credential = JSON.stringify(authenticator.create(options, { counter: o.counter ?? 0 }));
  const res = await post(jar, '/account/passkeys', {
    csrf_token: formValue(html, 'csrf_token')!,
    name: 'Key',
    credential,
  });
  expect(res.status).toBe(303);
  if (o.totp) {
    // An authenticator app turned on: the store's own enrolment, confirmed as a correct code would.
    const user = (await idp.issuer.ctx.store.users.findBySub(sub))!;
    const enrolment = await startTotpEnrolment(idp.issuer.ctx, user);
    await idp.issuer.ctx.store.secondFactors.confirmTotp(sub, 0, idp.clock.now());
    return { email, sub, authenticator, totpSecret: enrolment!.secret };
  }
  return { email, sub, authenticator };
}

/** Authorizes `clientId` through `jar`: where the issuer sent the browser, and the PKCE verifier. */
async function authorize(jar: CookieJarClient, clientId: string, redirectUri = fx.redirectUri) {
  const { verifier, challenge } = pkcePair();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId, redirectUri }, { code_challenge: challenge }),
    jar,
  );
  expect(res.status).toBe(302);
  return { location: locationOf(res, idp.url)!, verifier };
}

/** Signs in with the password at `signInPage`: the factor page it leads to. */
async function passwordThenFactorPage(jar: CookieJarClient, signInPage: URL, person: Person): Promise<URL> {
  const res = await submitSignIn(jar, idp.url, signInPage, person.email, PASSWORD);
  expect(res.status).toBe(303);
  const factorPage = locationOf(res, idp.url)!;
  expect(factorPage.pathname).toBe('/sign-in/factor');
  return factorPage;
}

/** The factor page's HTML, with its interaction, CSRF token and passkey options. */
async function factorPage(jar: CookieJarClient, location: URL) {
  const res = await jar.fetch(location);
  expect(res.status).toBe(200);
  const html = await res.text();
  return {
    html,
    interaction: formValue(html, 'interaction')!,
    csrf: formValue(html, 'csrf_token')!,
    options: passkeyOptionsIn<RequestOptions>(html, 'data-passkey-factor'),
  };
}

/** Posts a passkey's answer as the page script does: the page's passkey form, `credential` filled in. */
const answerWith = (jar: CookieJarClient, page: { interaction: string; csrf: string }, answer: unknown) =>
  post(jar, '/sign-in/factor/passkey', {
    interaction: page.interaction,
    csrf_token: page.csrf,
    credential: JSON.stringify(answer),
  });

async function idTokenOf(callback: URL, verifier: string, clientId: string) {
  const { status, json } = await redeem(idp.url, {
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
    redirect_uri: fx.redirectUri,
    client_id: clientId,
  });
  expect(status).toBe(200);
  return decodeJwt(json.id_token as string);
}

async function lastAudit(sub: string, type: string) {
  const [row] = await sql(
    idp,
    'select detail from audit_events where subject = ? and type = ? order by id desc limit 1',
    sub,
    type,
  );
  return row === undefined ? undefined : storedJson(row.detail);
}

async function sessionsOf(sub: string) {
  return idp.issuer.ctx.store.sessions.listActiveForUser(sub);
}

describe('a passkey as the second factor at the factor page', () => {
  it('completes a sign-in asked for a second factor: pwd, hwk, user and mfa in the ID token', async () => {
    const person = await personWithPasskey({ totp: true });
    const jar = createCookieJarClient();
    const { location, verifier } = await authorize(jar, fx.publicClient.id);
    const page = await factorPage(jar, await passwordThenFactorPage(jar, location, person));
    // No session before the second factor.
    expect(jar.cookie(idp.url, 'tessera_session')).toBeUndefined();
    expect(page.html).toContain('Use a passkey');
    expect(page.html).toContain('src="/assets/passkeys.js"');
    // The person's own passkeys only: the browser offers no other.
    expect(page.options.allowCredentials).toEqual([
      expect.objectContaining({ id: person.authenticator.credentials[0]!.id.toString('base64url') }),
    ]);

    const res = await answerWith(jar, page, person.authenticator.get(page.options));
    expect(res.status).toBe(303);
    const callback = locationOf(res, idp.url)!;
    expect(callback.href.startsWith(fx.redirectUri)).toBe(true);
    const id = await idTokenOf(callback, verifier, fx.publicClient.id);
    expect(id).toMatchObject({ acr: ACR_PHISHING_RESISTANT, amr: ['pwd', 'hwk', 'user', 'mfa'] });
    const [passkey] = await sql(idp, 'select last_used_at from passkeys where user_id = ?', person.sub);
    expect(passkey!.last_used_at).not.toBeNull();
    expect(await lastAudit(person.sub, 'passkey.factor_proved')).toMatchObject({ userVerified: true });
  });

  it('lets a person with a passkey and no authenticator app complete a require-MFA client’s sign-in', async () => {
    const person = await personWithPasskey();
    const jar = createCookieJarClient();
    const { location, verifier } = await authorize(jar, STRICT.id);
    const earlier = new Set((await sessionsOf(person.sub)).map((s) => s.id));
    // A password alone is a sign-in for this person; the client's rule then asks for the missing factor.
    const factorAt = await passwordThenFactorPage(jar, location, person);
    const [pwdOnly] = (await sessionsOf(person.sub)).filter((s) => !earlier.has(s.id));
    expect(pwdOnly?.amr).toEqual(['pwd']);
    const page = await factorPage(jar, factorAt);
    expect(page.html).not.toContain('A second step is needed');
    // Nothing to offer without script but the passkey: the page says so.
    expect(page.html).toContain('<noscript><p>Using a passkey needs JavaScript');
    expect(await lastAudit(person.sub, 'second_factor.unavailable')).toBeUndefined();

    const res = await answerWith(jar, page, person.authenticator.get(page.options));
    expect(res.status).toBe(303);
    const id = await idTokenOf(locationOf(res, idp.url)!, verifier, STRICT.id);
    // The factor is added to the password's session: the same sid.
    expect(id).toMatchObject({ acr: ACR_PHISHING_RESISTANT, amr: ['pwd', 'hwk', 'user', 'mfa'], sid: pwdOnly!.id });
  });

  it('says hwk without user when the authenticator did not verify the person', async () => {
    const person = await personWithPasskey({ totp: true });
    const jar = createCookieJarClient();
    const page = await factorPage(jar, await passwordThenFactorPage(jar, new URL('/sign-in', idp.url), person));
    const res = await answerWith(jar, page, person.authenticator.get(page.options, { flags: FLAGS.UP }));
    expect(locationOf(res, idp.url)?.pathname).toBe('/account');
    const [session] = await sessionsOf(person.sub).then((all) => all.filter((s) => s.amr.includes('hwk')));
    expect(session?.amr).toEqual(['pwd', 'hwk', 'mfa']);
  });

  it('keeps the code forms, which work without JavaScript, beside the passkey', async () => {
    const person = await personWithPasskey({ totp: true });
    const jar = createCookieJarClient();
    const page = await factorPage(jar, await passwordThenFactorPage(jar, new URL('/sign-in', idp.url), person));
    expect(page.html).toContain('Code from your authenticator app');
    // The code form posts to the page itself, as before: a wrong code is refused, the right one signs in.
    const code = (value: string) =>
      post(jar, '/sign-in/factor', {
        interaction: page.interaction,
        csrf_token: page.csrf,
        method: 'totp',
        code: value,
      });
    const right = new TOTP({
      secret: Secret.fromBase32(person.totpSecret!),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    }).generate({ timestamp: idp.clock.now() });
    const wrong = await code(String((Number(right) + 1) % 1_000_000).padStart(6, '0'));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That code is not right');
    expect(locationOf(await code(right), idp.url)?.pathname).toBe('/account');
    const [session] = (await sessionsOf(person.sub)).filter((s) => s.amr.includes('otp'));
    expect(session?.amr).toEqual(['pwd', 'otp', 'mfa']);
  });
});

describe('refused passkeys at the factor page: audited, no session, no change to stored data', () => {
  /** Posts `answer` for `page` and checks the refusal: the page again with its message, nothing stored. */
  async function expectRefused(jar: CookieJarClient, page: { interaction: string; csrf: string }, answer: unknown) {
    const sessionCookie = jar.cookie(idp.url, 'tessera_session');
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await answerWith(jar, page, answer);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('That passkey could not confirm it’s you');
    expect(jar.cookie(idp.url, 'tessera_session')).toBe(sessionCookie);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  }

  /** A person asked for their second factor after the password: their factor page. */
  async function askedForFactor(person: Person) {
    const jar = createCookieJarClient();
    const page = await factorPage(jar, await passwordThenFactorPage(jar, new URL('/sign-in', idp.url), person));
    return { jar, page };
  }

  it('refuses another person’s passkey', async () => {
    const victim = await personWithPasskey({ totp: true });
    const attacker = await personWithPasskey();
    const { jar, page } = await askedForFactor(victim);
    // The attacker's own passkey signs the victim's challenge (a browser would not even offer it).
    await expectRefused(jar, page, attacker.authenticator.get(page.options));
    expect(await lastAudit(victim.sub, 'passkey.refused')).toMatchObject({
      ceremony: 'second_factor',
      reason: 'user_handle_mismatch',
    });
  });

  it('refuses a replayed answer: the challenge is answered once', async () => {
    const person = await personWithPasskey({ totp: true });
    const jar = createCookieJarClient();
    // A third-party client: after the factor the interaction goes on to consent, still open.
    const { location } = await authorize(jar, fx.thirdParty.id);
    const page = await factorPage(jar, await passwordThenFactorPage(jar, location, person));
    const answer = person.authenticator.get(page.options);
    const first = await answerWith(jar, page, answer);
    expect(locationOf(first, idp.url)?.pathname).toBe('/consent');
    await expectRefused(jar, page, answer);
    expect(await lastAudit(person.sub, 'passkey.refused')).toMatchObject({ reason: 'unknown_challenge' });
  });

  it('refuses an answer after the challenge expired', async () => {
    const person = await personWithPasskey({ totp: true });
    const { jar, page } = await askedForFactor(person);
    idp.clock.advance(CHALLENGE_TTL_MS / 1000 + 1);
    await expectRefused(jar, page, person.authenticator.get(page.options));
    expect(await lastAudit(person.sub, 'passkey.refused')).toMatchObject({ reason: 'unknown_challenge' });
  });

  it('refuses an answer to the sign-in page’s passkey challenge', async () => {
    const person = await personWithPasskey({ totp: true });
    const jar = createCookieJarClient();
    const signInPage = await (await jar.fetch(new URL('/sign-in', idp.url))).text();
    const signInOptions = passkeyOptionsIn<RequestOptions>(signInPage, 'data-passkey-sign-in');
    const res = await post(jar, '/sign-in', {
      interaction: formValue(signInPage, 'interaction')!,
      csrf_token: formValue(signInPage, 'csrf_token')!,
      email: person.email,
      password: PASSWORD,
    });
    const page = await factorPage(jar, locationOf(res, idp.url)!);
    expect(page.interaction).toBe(formValue(signInPage, 'interaction'));
    await expectRefused(jar, page, person.authenticator.get(signInOptions));
    expect(await lastAudit(person.sub, 'passkey.refused')).toMatchObject({ reason: 'unknown_challenge' });
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
  ])('refuses an assertion made for %s', async (_what, tampering) => {
    const person = await personWithPasskey({ totp: true });
    const { jar, page } = await askedForFactor(person);
    await expectRefused(jar, page, person.authenticator.get(page.options, tampering));
    expect(await lastAudit(person.sub, 'passkey.refused')).toMatchObject({ reason: 'verification_failed' });
  });

  it('refuses a counter that went back (a cloned authenticator), audited as such', async () => {
    const person = await personWithPasskey({ totp: true, counter: 5 });
    const first = await askedForFactor(person);
    expect((await answerWith(first.jar, first.page, person.authenticator.get(first.page.options))).status).toBe(303);
    const [stored] = await sql(idp, 'select counter from passkeys where user_id = ?', person.sub);
    expect(Number(stored!.counter)).toBe(6);

    const { jar, page } = await askedForFactor(person);
    await expectRefused(jar, page, person.authenticator.get(page.options, { counter: 3 }));
    expect(await lastAudit(person.sub, 'passkey.counter_regressed')).toMatchObject({ stored: 6, presented: 3 });
    expect(await lastAudit(person.sub, 'passkey.refused')).toMatchObject({ reason: 'counter_regressed' });
  });
});

describe('the ceremony, at the protocol level', () => {
  /** The person's password session: the one their latest sign-in started. */
  async function passwordSession(sub: string): Promise<SsoSession> {
    const session = (await sessionsOf(sub)).sort((a, b) => b.authTime - a.authTime)[0]!;
    expect(session.amr).toEqual(['pwd']);
    return session;
  }
  const bindingOf = (session: SsoSession, interactionId = 'step-up-interaction'): PasskeyFactorBinding => ({
    interactionId,
    userId: session.userId,
  });

  it('lists the person’s passkeys; a step-up adds hwk and user to the same session, with mfa', async () => {
    const { sub, authenticator } = await personWithPasskey();
    const session = await passwordSession(sub);
    const options = (await startPasskeyFactor(idp.issuer.ctx, bindingOf(session)))!;
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([
      authenticator.credentials[0]!.id.toString('base64url'),
    ]);
    const answer = JSON.stringify(authenticator.get(options));
    const methods = await provePasskeyFactor(idp.issuer.ctx, bindingOf(session), {
      credential: answer,
      ip: '127.0.0.1',
    });
    expect(methods).toEqual(['hwk', 'user']);
    const { session: stronger } = await addFactorToSession(idp.issuer.ctx, session, methods);
    expect(stronger.id).toBe(session.id);
    const [row] = await sql(idp, 'select amr from sso_sessions where id = ?', session.id);
    expect(storedJson(row!.amr)).toEqual(['pwd', 'hwk', 'user', 'mfa']);
  });

  it('offers nothing to a person without a passkey', async () => {
    const { sub } = await registerPerson(idp, `passkey-factor-none-${++people}@example.com`);
    expect(await startPasskeyFactor(idp.issuer.ctx, { interactionId: 'any', userId: sub })).toBeUndefined();
  });

  it.each([
    ['another interaction', (b: PasskeyFactorBinding) => ({ ...b, interactionId: 'another-interaction' })],
    ['another person', (b: PasskeyFactorBinding) => ({ ...b, userId: 'another-person' })],
  ])('refuses an answer to a challenge bound to %s', async (_what, change) => {
    const first = await personWithPasskey();
    const binding = bindingOf(await passwordSession(first.sub));
    const options = (await startPasskeyFactor(idp.issuer.ctx, binding))!;
    const answer = JSON.stringify(first.authenticator.get(options));
    const refusal = await provePasskeyFactor(idp.issuer.ctx, change(binding), {
      credential: answer,
      ip: '127.0.0.1',
    }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(PasskeyRefused);
    expect((refusal as PasskeyRefused).reason).toBe('unknown_challenge');
  });
});
