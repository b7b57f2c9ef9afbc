/**
 * Second factors over real HTTP: TOTP enrolment on the account page (fresh sign-in, active only
 * after a correct code, the secret encrypted at rest), sign-in with password then TOTP or a
 * recovery code, step-up of a weaker session (the missing factor only), and the attacks: a TOTP
 * code replayed or raced, codes brute-forced (throttled), a recovery code used twice or raced,
 * enrolment without a fresh sign-in. Each refusal is audited and changes no stored data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { ACR_MFA, ACR_PASSWORD } from '@tessera/shared';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../src/protocol/registration.js';
import { tableDigests } from './support/db-digest.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, submitSignIn } from './support/browser.js';
import { PASSWORD, registerPerson, registration, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();
const STRICT = { id: 'strict-app', redirectUri: 'http://127.0.0.1:9/callback' };

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

let people = 0;
async function newPerson(): Promise<{ email: string; sub: string }> {
  const email = `factor-${++people}@example.com`;
  const user = await registerPerson(idp, email);
  return { email, sub: user.sub };
}

const totp = (secret: string) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
/** The code the person's app shows now (the issuer's clock). */
const codeNow = (secret: string, offsetSteps = 0) =>
  totp(secret).generate({ timestamp: idp.clock.now() + offsetSteps * 30_000 });
/** Moves to the next 30-second step, so a new code is valid and the last one is in the past. */
const nextStep = () => idp.clock.advance(30);

const form = (jar: CookieJarClient, path: string, body: Record<string, string>) =>
  jar.fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
    body: new URLSearchParams(body),
  });

/** Signs in at the issuer itself (no app): the answer to the password form. */
async function signInAtIssuer(jar: CookieJarClient, email: string, password = PASSWORD): Promise<Response> {
  return submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), email, password);
}

/** Gives a code at the factor page `location`: the answer. */
async function giveFactor(jar: CookieJarClient, location: URL, method: 'totp' | 'recovery', code: string) {
  const page = await (await jar.fetch(location)).text();
  return form(jar, '/sign-in/factor', {
    interaction: formValue(page, 'interaction') ?? '',
    csrf_token: formValue(page, 'csrf_token') ?? '',
    method,
    code,
  });
}

const accountCsrf = async (jar: CookieJarClient) =>
  formValue(await (await jar.fetch(new URL('/account', idp.url))).text(), 'csrf_token') ?? '';

/** A person signed in at the issuer with an authenticator app enrolled: its secret, recovery codes and jar. */
async function enrolled(): Promise<{
  email: string;
  sub: string;
  secret: string;
  codes: string[];
  jar: CookieJarClient;
}> {
  const person = await newPerson();
  const jar = createCookieJarClient();
  expect((await signInAtIssuer(jar, person.email)).status).toBe(303);
  const page = await (await jar.fetch(new URL('/account/totp', idp.url))).text();
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page)?.[1];
  expect(secret).toBeDefined();
  expect(page).toContain('<svg');
  const res = await form(jar, '/account/totp/confirm', {
    csrf_token: formValue(page, 'csrf_token') ?? '',
    code: codeNow(secret!),
  });
  expect(res.status).toBe(200);
  // A step-up: the session gains the factor under a new secret, so both cookies are set again.
  expect(res.headers.get('set-login')).toBe('logged-in');
  expect(res.headers.getSetCookie().some((c) => c.startsWith('tessera_fedcm='))).toBe(true);
  const codes = [...(await res.text()).matchAll(/<li>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/li>/g)].map((m) => m[1]!);
  expect(codes).toHaveLength(10);
  nextStep();
  return { ...person, secret: secret!, codes, jar };
}

async function auditTypes(sub: string): Promise<string[]> {
  const rows = await sql(idp, 'select type from audit_events where subject = ? order by id', sub);
  return rows.map((r) => String(r.type));
}

async function sessionsOf(sub: string) {
  return idp.issuer.ctx.store.sessions.listActiveForUser(sub);
}

/** Authorizes `clientId` through `jar`: where the issuer sent the browser, and the PKCE verifier. */
async function authorize(jar: CookieJarClient, clientId: string, overrides: Record<string, string> = {}) {
  const { verifier, challenge } = pkcePair();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId, redirectUri: fx.redirectUri }, { code_challenge: challenge, ...overrides }),
    jar,
  );
  expect(res.status).toBe(302);
  return { location: locationOf(res, idp.url)!, verifier };
}

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

describe('TOTP enrolment', () => {
  it('is active only after a correct code; the secret is stored encrypted; the session gains the factor', async () => {
    const person = await newPerson();
    const jar = createCookieJarClient();
    await signInAtIssuer(jar, person.email);
    const [before] = await sessionsOf(person.sub);
    const page = await (await jar.fetch(new URL('/account/totp', idp.url))).text();
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page)![1]!;
    const [row] = await sql(idp, 'select * from totp_authenticators where user_id = ?', person.sub);
    expect(row?.confirmed_at).toBeNull();
    // Encrypted like the signing keys: a compact JWE, not the key.
    expect(String(row?.secret_encrypted).split('.')).toHaveLength(5);
    expect(JSON.stringify(row)).not.toContain(secret);

    const wrong = await form(jar, '/account/totp/confirm', {
      csrf_token: formValue(page, 'csrf_token')!,
      code: codeNow(secret, 5),
    });
    expect(wrong.status).toBe(401);
    expect((await sql(idp, 'select confirmed_at from totp_authenticators where user_id = ?', person.sub))[0]).toEqual({
      confirmed_at: null,
    });
    expect(await auditTypes(person.sub)).toContain('totp.enrolment_failed');
    // Not active: a password still signs in alone.
    expect((await sessionsOf(person.sub))[0]?.amr).toEqual(['pwd']);

    const ok = await form(jar, '/account/totp/confirm', {
      csrf_token: formValue(page, 'csrf_token')!,
      code: codeNow(secret),
    });
    expect(ok.status).toBe(200);
    const [after] = await sessionsOf(person.sub);
    expect(after).toMatchObject({ id: before!.id, amr: ['pwd', 'otp', 'mfa'] });
    expect(await auditTypes(person.sub)).toEqual(expect.arrayContaining(['totp.enrolled', 'recovery_codes.generated']));
    const account = await (await jar.fetch(new URL('/account', idp.url))).text();
    expect(account).toContain('Authenticator app: <strong>on</strong>');
    expect(account).toContain('password + one-time code');
  });

  it('needs a fresh sign-in: an older session is sent to sign in again, and nothing is stored', async () => {
    const person = await newPerson();
    const jar = createCookieJarClient();
    await signInAtIssuer(jar, person.email);
    const csrf = await accountCsrf(jar);
    idp.clock.advance(idp.issuer.ctx.config.freshSignInWindow + 1);
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    const show = await jar.fetch(new URL('/account/totp', idp.url));
    expect(show.status).toBe(303);
    expect(locationOf(show, idp.url)?.pathname).toBe('/sign-in');
    const confirm = await form(jar, '/account/totp/confirm', { csrf_token: csrf, code: '123456' });
    expect(confirm.status).toBe(303);
    expect(locationOf(confirm, idp.url)?.pathname).toBe('/sign-in');
    const codes = await form(jar, '/account/recovery-codes', { csrf_token: csrf });
    expect(locationOf(codes, idp.url)?.pathname).toBe('/sign-in');
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
    expect(await sql(idp, 'select * from totp_authenticators where user_id = ?', person.sub)).toEqual([]);

    // Signing in again comes back to the enrolment page.
    const again = await submitSignIn(jar, idp.url, locationOf(show, idp.url)!, person.email, PASSWORD);
    expect(locationOf(again, idp.url)?.pathname).toBe('/account/totp');
    expect((await jar.fetch(new URL('/account/totp', idp.url))).status).toBe(200);
  });
});

describe('signing in with a second factor', () => {
  it('asks for the code after the password, with no session before it; then states both factors', async () => {
    const person = await enrolled();
    const jar = createCookieJarClient();
    const { location, verifier } = await authorize(jar, fx.publicClient.id);
    const res = await submitSignIn(jar, idp.url, location, person.email, PASSWORD);
    expect(res.status).toBe(303);
    const factorPage = locationOf(res, idp.url)!;
    expect(factorPage.pathname).toBe('/sign-in/factor');
    expect(jar.cookie(idp.url, 'tessera_session')).toBeUndefined();
    // A password alone opens nothing: not the account page either.
    expect(locationOf(await jar.fetch(new URL('/account', idp.url)), idp.url)?.pathname).toBe('/sign-in');

    const given = await giveFactor(jar, factorPage, 'totp', codeNow(person.secret));
    const callback = locationOf(given, idp.url)!;
    expect(callback.href.startsWith(fx.redirectUri)).toBe(true);
    const id = await idTokenOf(callback, verifier, fx.publicClient.id);
    expect(id).toMatchObject({ acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('refuses a TOTP code used once already, audited as a replay, and stores nothing', async () => {
    const person = await enrolled();
    const code = codeNow(person.secret);
    const first = createCookieJarClient();
    const res = await signInAtIssuer(first, person.email);
    expect(locationOf(await giveFactor(first, locationOf(res, idp.url)!, 'totp', code), idp.url)?.pathname).toBe(
      '/account',
    );

    const second = createCookieJarClient();
    const factorPage = locationOf(await signInAtIssuer(second, person.email), idp.url)!;
    const sessions = (await sessionsOf(person.sub)).length;
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    const replay = await giveFactor(second, factorPage, 'totp', code);
    expect(replay.status).toBe(401);
    expect(second.cookie(idp.url, 'tessera_session')).toBeUndefined();
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
    expect((await sessionsOf(person.sub)).length).toBe(sessions);
    const [event] = await sql(
      idp,
      "select detail from audit_events where subject = ? and type = 'second_factor.failed' order by id desc",
      person.sub,
    );
    expect(storedJson(event?.detail)).toEqual({ method: 'totp', reason: 'replayed' });
  });

  it('lets exactly one of two concurrent submissions of one code through', async () => {
    const person = await enrolled();
    const jars = [createCookieJarClient(), createCookieJarClient()];
    const pages = await Promise.all(
      jars.map(async (jar) => {
        const location = locationOf(await signInAtIssuer(jar, person.email), idp.url)!;
        return (await jar.fetch(location)).text();
      }),
    );
    const code = codeNow(person.secret);
    const answers = await Promise.all(
      jars.map((jar, i) =>
        form(jar, '/sign-in/factor', {
          interaction: formValue(pages[i]!, 'interaction')!,
          csrf_token: formValue(pages[i]!, 'csrf_token')!,
          method: 'totp',
          code,
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([303, 401]);
  });

  it('throttles guessing: after five wrong codes even the right one is refused, and the block is audited', async () => {
    const person = await enrolled();
    const jar = createCookieJarClient();
    const factorPage = locationOf(await signInAtIssuer(jar, person.email), idp.url)!;
    const right = codeNow(person.secret);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) expect((await giveFactor(jar, factorPage, 'totp', wrong)).status).toBe(401);
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    expect((await giveFactor(jar, factorPage, 'totp', right)).status).toBe(401);
    expect(jar.cookie(idp.url, 'tessera_session')).toBeUndefined();
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
    expect(await auditTypes(person.sub)).toContain('second_factor.throttled');
    // The block ends on its own.
    idp.clock.advance(2);
    expect((await giveFactor(jar, factorPage, 'totp', codeNow(person.secret))).status).toBe(303);
  });

  it('takes a recovery code once, says how many remain, and audits it; a second use is refused', async () => {
    const person = await enrolled();
    const jar = createCookieJarClient();
    const factorPage = locationOf(await signInAtIssuer(jar, person.email), idp.url)!;
    const used = await giveFactor(jar, factorPage, 'recovery', person.codes[0]!.toUpperCase());
    expect(used.status).toBe(200);
    expect(await used.text()).toContain('<strong>9</strong> recovery codes left');
    const [event] = await sql(
      idp,
      "select detail from audit_events where subject = ? and type = 'recovery_code.used'",
      person.sub,
    );
    expect(storedJson(event?.detail)).toEqual({ remaining: 9 });

    const other = createCookieJarClient();
    const again = locationOf(await signInAtIssuer(other, person.email), idp.url)!;
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    expect((await giveFactor(other, again, 'recovery', person.codes[0]!)).status).toBe(401);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
  });

  it('lets exactly one of two concurrent uses of one recovery code through', async () => {
    const person = await enrolled();
    const jars = [createCookieJarClient(), createCookieJarClient()];
    const pages = await Promise.all(
      jars.map(async (jar) => (await jar.fetch(locationOf(await signInAtIssuer(jar, person.email), idp.url)!)).text()),
    );
    const answers = await Promise.all(
      jars.map((jar, i) =>
        form(jar, '/sign-in/factor', {
          interaction: formValue(pages[i]!, 'interaction')!,
          csrf_token: formValue(pages[i]!, 'csrf_token')!,
          method: 'recovery',
          code: person.codes[1]!,
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    expect(await idp.issuer.ctx.store.secondFactors.remainingRecoveryCodes(person.sub)).toBe(9);
  });
});

describe('step-up', () => {
  it('asks a password-only session for the missing factor only, keeping its sid', async () => {
    const person = await enrolled();
    // A session from before the enrolment, on another browser: a password only.
    const jar = createCookieJarClient();
    await idp.issuer.ctx.store.secondFactors.removeTotp(person.sub);
    await signInAtIssuer(jar, person.email);
    const [pwdOnly] = (await sessionsOf(person.sub)).filter((s) => s.amr.length === 1);
    expect(pwdOnly?.amr).toEqual(['pwd']);
    const enrolledAgain = await (await jar.fetch(new URL('/account/totp', idp.url))).text();
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrolledAgain)![1]!;
    // Enrolled from another session, so this one stays a password-only one.
    await idp.issuer.ctx.store.secondFactors.confirmTotp(person.sub, 0, idp.clock.now());

    const { location, verifier } = await authorize(jar, STRICT.id);
    expect(location.pathname).toBe('/sign-in/factor');
    const given = await giveFactor(jar, location, 'totp', codeNow(secret));
    const id = await idTokenOf(locationOf(given, idp.url)!, verifier, STRICT.id);
    expect(id).toMatchObject({ acr: ACR_MFA, sid: pwdOnly!.id });
  });

  it('shows one with no second factor where to set one up; cancel: unmet_authentication_requirements', async () => {
    const person = await newPerson();
    const jar = createCookieJarClient();
    await signInAtIssuer(jar, person.email);
    const { location } = await authorize(jar, fx.publicClient.id, { acr_values: `unknown ${ACR_MFA}` });
    expect(location.pathname).toBe('/sign-in/factor');
    const page = await (await jar.fetch(location)).text();
    expect(page).toContain('href="/account"');
    const cancel = await form(jar, '/sign-in/factor', {
      interaction: formValue(page, 'interaction')!,
      csrf_token: formValue(page, 'csrf_token')!,
      cancel: '1',
    });
    const back = locationOf(cancel, idp.url)!;
    expect(back.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(back.searchParams.get('state')).toBe('state-123');
    expect(await auditTypes(person.sub)).toContain('second_factor.unavailable');

    // prompt=none cannot show the page: interaction_required (OIDC Core §3.1.2.6).
    const none = await authorize(jar, STRICT.id, { prompt: 'none' });
    expect(none.location.searchParams.get('error')).toBe('interaction_required');
    // acr_values naming only classes the issuer does not know asks for nothing more.
    const unknown = await authorize(jar, fx.publicClient.id, { acr_values: 'urn:example:gold' });
    expect(unknown.location.searchParams.get('code')).toBeTruthy();
    expect(await idTokenOf(unknown.location, unknown.verifier, fx.publicClient.id)).toMatchObject({
      acr: ACR_PASSWORD,
    });
  });
});

describe('changing factors', () => {
  it('signs out the other sessions when asked', async () => {
    const person = await enrolled();
    const other = createCookieJarClient();
    const factorPage = locationOf(await signInAtIssuer(other, person.email), idp.url)!;
    await giveFactor(other, factorPage, 'totp', codeNow(person.secret));
    expect((await sessionsOf(person.sub)).length).toBe(2);
    const res = await form(person.jar, '/account/recovery-codes', {
      csrf_token: await accountCsrf(person.jar),
      end_other_sessions: '1',
    });
    expect(res.status).toBe(200);
    expect((await sessionsOf(person.sub)).length).toBe(1);
    expect(await auditTypes(person.sub)).toContain('sessions.ended_after_factor_change');
    expect(await idp.issuer.ctx.store.secondFactors.remainingRecoveryCodes(person.sub)).toBe(10);
  });
});
