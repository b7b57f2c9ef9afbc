/**
 * Re-authentication and the SSO session: prompt (OIDC Core §3.1.2.1), max_age, a stable `sub`,
 * and a new session secret at every sign-in (no session fixation).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { digest } from '../src/crypto/digest.js';
import { PASSWORD, countRows, registerPerson, useIssuer } from './support/fixture.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, submitSignIn } from './support/browser.js';

const { idp, fx } = useIssuer();

beforeAll(async () => {
  await registerPerson(idp, 'bob@example.com', 'Bob');
});

/** One authorization request for the public client through `jar`; where it led and the verifier. */
async function authorize(jar: CookieJarClient, overrides: Record<string, string> = {}) {
  const { verifier, challenge } = pkcePair();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery(
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
      { code_challenge: challenge, ...overrides },
    ),
    jar,
  );
  expect(res.status).toBe(302);
  return { location: locationOf(res, idp.url)!, verifier };
}

/** Signs in at the sign-in page `location` leads to; returns the callback URL. */
async function signIn(jar: CookieJarClient, location: URL, email = 'alice@example.com'): Promise<URL> {
  expect(location.pathname).toBe('/sign-in');
  const res = await submitSignIn(jar, idp.url, location, email, PASSWORD);
  expect(res.status).toBe(303);
  return locationOf(res, idp.url)!;
}

/** Redeems the code of `callback`; returns the ID token's claims. */
async function idTokenClaims(callback: URL, verifier: string) {
  const code = callback.searchParams.get('code');
  expect(code, `callback ${callback.href}`).toBeTruthy();
  const { status, json } = await redeem(idp.url, {
    code: code!,
    code_verifier: verifier,
    redirect_uri: fx.redirectUri,
    client_id: fx.publicClient.id,
  });
  expect(status).toBe(200);
  return decodeJwt(json.id_token as string);
}

/** A new browser signed in as `email`; returns it with the first ID token's claims. */
async function signedInBrowser(email = 'alice@example.com') {
  const jar = createCookieJarClient();
  const { location, verifier } = await authorize(jar);
  const claims = await idTokenClaims(await signIn(jar, location, email), verifier);
  return { jar, claims };
}

/** What prompt=none says about a browser holding only `sessionCookie`. */
async function promptNoneWith(sessionCookie: string): Promise<URL> {
  const jar = createCookieJarClient();
  jar.setCookie(idp.url, 'tessera_session', sessionCookie);
  return (await authorize(jar, { prompt: 'none' })).location;
}

describe('prompt', () => {
  it('answers prompt=none with a session with a code at once', async () => {
    const { jar } = await signedInBrowser();
    const { location, verifier } = await authorize(jar, { prompt: 'none' });
    expect(`${location.origin}${location.pathname}`).toBe(fx.redirectUri);
    expect((await idTokenClaims(location, verifier)).sub).toBe(fx.alice.sub);
  });

  it('answers an authorization without prompt from a signed-in browser with a code at once', async () => {
    const { jar } = await signedInBrowser();
    const { location } = await authorize(jar);
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('shows the sign-in page again for prompt=login, and the new ID token has a later auth_time', async () => {
    const { jar, claims: before } = await signedInBrowser();
    idp.clock.advance(5);
    const { location, verifier } = await authorize(jar, { prompt: 'login' });
    const after = await idTokenClaims(await signIn(jar, location), verifier);
    expect(after.auth_time as number).toBeGreaterThanOrEqual((before.auth_time as number) + 5);
    // Re-authenticating the same person keeps the session (same sid, so apps stay linked).
    expect(after.sid).toBe(before.sid);
    expect(after.sub).toBe(before.sub);
  });

  it('asks for a sign-in again when the last one is older than max_age', async () => {
    const { jar, claims: before } = await signedInBrowser();
    idp.clock.advance(120);
    const { location, verifier } = await authorize(jar, { max_age: '60' });
    const after = await idTokenClaims(await signIn(jar, location), verifier);
    expect(after.auth_time as number).toBeGreaterThanOrEqual((before.auth_time as number) + 120);
  });

  it('issues a code at once when the last sign-in is within max_age', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(120);
    const { location } = await authorize(jar, { max_age: '600' });
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('asks for a sign-in for max_age=0 even right after one', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(1);
    const { location } = await authorize(jar, { max_age: '0' });
    expect(location.pathname).toBe('/sign-in');
  });

  it('answers prompt=none with login_required when the session is older than max_age', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(120);
    const { location } = await authorize(jar, { prompt: 'none', max_age: '60' });
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('iss')).toBe(idp.url);
  });
});

describe('the subject and the session secret', () => {
  it('gives the same sub at every sign-in, from any browser', async () => {
    const a = await signedInBrowser();
    const b = await signedInBrowser();
    expect(a.claims.sub).toBe(fx.alice.sub);
    expect(b.claims.sub).toBe(fx.alice.sub);
    expect(a.claims.sid).not.toBe(b.claims.sid);
  });

  it('sets a new session cookie at every sign-in and retires the previous one', async () => {
    const { jar } = await signedInBrowser();
    const firstCookie = jar.cookie(idp.url, 'tessera_session')!;
    const { location } = await authorize(jar, { prompt: 'login' });
    await signIn(jar, location);
    const secondCookie = jar.cookie(idp.url, 'tessera_session')!;
    expect(secondCookie).not.toBe(firstCookie);
    expect((await promptNoneWith(firstCookie)).searchParams.get('error')).toBe('login_required');
    expect((await promptNoneWith(secondCookie)).searchParams.get('code')).toBeTruthy();
  });

  it('replaces a planted session cookie at sign-in and never accepts the planted value (no fixation)', async () => {
    const jar = createCookieJarClient();
    jar.setCookie(idp.url, 'tessera_session', 'attacker-chosen');
    const { location } = await authorize(jar);
    await signIn(jar, location);
    expect(jar.cookie(idp.url, 'tessera_session')).not.toBe('attacker-chosen');
    expect(await countRows(idp, 'sso_sessions', `secret_digest = '${digest('attacker-chosen')}'`)).toBe(0);
    expect((await promptNoneWith('attacker-chosen')).searchParams.get('error')).toBe('login_required');
  });

  it('ends a planted session of another person when the browser signs in', async () => {
    const bob = await signedInBrowser('bob@example.com');
    const bobCookie = bob.jar.cookie(idp.url, 'tessera_session')!;
    const victim = createCookieJarClient();
    victim.setCookie(idp.url, 'tessera_session', bobCookie);
    const { location, verifier } = await authorize(victim, { prompt: 'login' });
    const claims = await idTokenClaims(await signIn(victim, location), verifier);
    expect(claims.sub).toBe(fx.alice.sub);
    expect(claims.sid).not.toBe(bob.claims.sid);
    expect(victim.cookie(idp.url, 'tessera_session')).not.toBe(bobCookie);
    expect((await promptNoneWith(bobCookie)).searchParams.get('error')).toBe('login_required');
  });
});

describe('the sign-in that prompt=login or max_age asks for cannot be skipped', () => {
  /** Posts the consent form with the interaction and CSRF token of the sign-in page at `location`. */
  async function postConsentInstead(jar: CookieJarClient, location: URL): Promise<Response> {
    expect(location.pathname).toBe('/sign-in');
    const page = await (await jar.fetch(location)).text();
    return jar.fetch(new URL('/consent', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.url).origin },
      body: new URLSearchParams({
        interaction: formValue(page, 'interaction')!,
        csrf_token: formValue(page, 'csrf_token')!,
        decision: 'allow',
      }),
    });
  }

  it('issues no code when the consent form is posted instead of signing in again for prompt=login', async () => {
    const { jar } = await signedInBrowser();
    const { location } = await authorize(jar, { prompt: 'login' });
    const res = await postConsentInstead(jar, location);
    const next = locationOf(res, idp.url);
    expect(next?.searchParams.has('code') ?? false).toBe(false);
    expect(next?.pathname).toBe('/sign-in');
  });

  it('issues no code when the consent form is posted instead of signing in again for max_age', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(120);
    const { location } = await authorize(jar, { max_age: '60' });
    const res = await postConsentInstead(jar, location);
    expect(locationOf(res, idp.url)?.searchParams.has('code') ?? false).toBe(false);
  });

  it('does not show the consent page for an interaction still waiting for its sign-in', async () => {
    const { jar } = await signedInBrowser();
    const { location } = await authorize(jar, { prompt: 'login' });
    const res = await jar.fetch(new URL(`/consent${location.search}`, idp.url));
    expect(res.status).not.toBe(200);
    expect(locationOf(res, idp.url)?.pathname).toBe('/sign-in');
  });
});

describe('the SSO session ends', () => {
  it('after an hour without use: the next authorization asks for a sign-in', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(3601);
    expect((await authorize(jar)).location.pathname).toBe('/sign-in');
    expect((await authorize(jar, { prompt: 'none' })).location.searchParams.get('error')).toBe('login_required');
  });

  it('not while it is used: each authorization counts as activity', async () => {
    const { jar } = await signedInBrowser();
    idp.clock.advance(1800);
    expect((await authorize(jar)).location.searchParams.get('code')).toBeTruthy();
    idp.clock.advance(1800);
    expect((await authorize(jar)).location.searchParams.get('code')).toBeTruthy();
  });
});
