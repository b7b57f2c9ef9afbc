/**
 * Signing in to app A through FedCM, against a real issuer: `/fedcm/start` makes the transaction
 * and the `params`, the browser's part (the assertion request Chromium sends, see
 * @tessera/shared/testing fedcm-browser.ts) gets a code from the issuer, and `/fedcm/complete`
 * redeems it and opens the same session `/callback` opens — or refuses, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, fedcmConfig, fedcmToken, type CookieJarClient } from '@tessera/shared/testing';
import { browserFlow } from '../../../idp/test/support/browser.js';
import { me, sessionCookie, useAppA, type World } from './support/world.js';

const world = useAppA();

interface Started {
  configURL: string;
  clientId: string;
  params: { nonce: string; code_challenge: string; code_challenge_method: string; scope?: string; resource?: string };
}

/** A browser signed in at the issuer only (no app A session yet). */
async function signedInAtIssuer(w: World): Promise<CookieJarClient> {
  const { jar } = await browserFlow(
    w.idp,
    { clientId: 'app-a', redirectUri: `${w.app}/callback` },
    { email: w.alice.email },
  );
  return jar;
}

async function start(jar: CookieJarClient): Promise<Started> {
  const res = await jar.fetch(`${world.app}/fedcm/start`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  return (await res.json()) as Started;
}

/** What the browser hands the page: a token from the issuer for these params. */
const tokenFor = (jar: CookieJarClient, params: unknown) =>
  fedcmToken(jar, { issuer: world.idp, origin: world.app, clientId: 'app-a', accountId: world.alice.sub, params });

function complete(jar: CookieJarClient, body: unknown, headers: Record<string, string> = { origin: world.app }) {
  return jar.fetch(`${world.app}/fedcm/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectRefusal(res: Response, status: number, error: string): Promise<void> {
  expect({ status: res.status, error: ((await res.json()) as { error?: string }).error }).toEqual({ status, error });
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe('GET /fedcm/start', () => {
  it('answers the config URL from discovery, the client id and params with a nonce and an S256 challenge', async () => {
    const jar = createCookieJarClient();
    const res = await jar.fetch(`${world.app}/fedcm/start`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Started;
    const discovery = (await (await fetch(`${world.idp}/.well-known/openid-configuration`)).json()) as {
      fedcm_config_uri: string;
    };
    expect(body).toEqual({
      configURL: discovery.fedcm_config_uri,
      clientId: 'app-a',
      params: {
        nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        code_challenge_method: 'S256',
        scope: 'openid profile email',
        resource: world.app,
      },
    });
    expect(await fedcmConfig(world.idp)).toHaveProperty('id_assertion_endpoint');
    // The transaction is server-side; the browser holds only its key, in its own HttpOnly cookie.
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('app_a_fedcm_login='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toContain(body.params.nonce);
  });
});

describe('POST /fedcm/complete', () => {
  it('redeems the token, checks the ID token and opens app A’s session as /callback does', async () => {
    const jar = await signedInAtIssuer(world);
    const { params } = await start(jar);
    const token = await tokenFor(jar, params);
    const res = await complete(jar, { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ location: '/' });
    expect(jar.cookie(world.app, 'app_a_fedcm_login')).toBeUndefined();
    expect(sessionCookie(world, jar)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await me(world, jar)).toEqual({
      status: 200,
      body: { sub: world.alice.sub, email: 'alice@example.com', name: 'Alice Liddell', sid: expect.any(String) },
    });
    const session = await world.sessions.find(sessionCookie(world, jar)!);
    expect(session).toMatchObject({ sub: world.alice.sub, accessToken: expect.any(String) });
  });

  it('takes `Origin: null` (a no-referrer page’s fetch) when Sec-Fetch-Site says same-origin', async () => {
    const jar = await signedInAtIssuer(world);
    const token = await tokenFor(jar, (await start(jar)).params);
    const res = await complete(jar, { token }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(200);
    expect((await me(world, jar)).status).toBe(200);
  });

  it('refuses a token without the login cookie: no sign-in was started in this browser', async () => {
    const jar = await signedInAtIssuer(world);
    const token = await tokenFor(jar, (await start(jar)).params);
    const elsewhere = createCookieJarClient();
    await expectRefusal(await complete(elsewhere, { token }), 400, 'invalid_request');
    expect(sessionCookie(world, elsewhere)).toBeUndefined();
  });

  it.each([
    ['another site', { origin: 'https://evil.example' }],
    ['no Origin at all', {}],
    ['Origin null from another site', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
  ])('refuses a request from %s (login CSRF), leaving the transaction usable', async (_, headers) => {
    const jar = await signedInAtIssuer(world);
    const token = await tokenFor(jar, (await start(jar)).params);
    await expectRefusal(await complete(jar, { token }, headers), 403, 'access_denied');
    expect(sessionCookie(world, jar)).toBeUndefined();
    // Nothing was spent: the page's own request still signs in.
    expect((await complete(jar, { token })).status).toBe(200);
  });

  it('refuses a replayed token, and a second use of the transaction', async () => {
    const jar = await signedInAtIssuer(world);
    const token = await tokenFor(jar, (await start(jar)).params);
    expect((await complete(jar, { token })).status).toBe(200);
    const signedIn = sessionCookie(world, jar);
    // The transaction was taken: the same token again finds none.
    await expectRefusal(await complete(jar, { token }), 400, 'invalid_request');
    // With a fresh transaction, the spent code is refused by the issuer (RFC 6749 §4.1.2: single use).
    await start(jar);
    await expectRefusal(await complete(jar, { token }), 400, 'invalid_grant');
    expect(sessionCookie(world, jar)).toBe(signedIn);
  });

  it('refuses a token issued for another nonce (OIDC Core §3.1.3.7)', async () => {
    const jar = await signedInAtIssuer(world);
    const { params } = await start(jar);
    // The transaction's challenge (so the code redeems) with a nonce app A never made.
    const token = await tokenFor(jar, { ...params, nonce: 'a-nonce-of-someone-else-entirely' });
    // As at /callback: the issuer sent a token that does not verify for this sign-in.
    await expectRefusal(await complete(jar, { token }), 502, 'invalid_token');
    expect(sessionCookie(world, jar)).toBeUndefined();
    expect((await me(world, jar)).status).toBe(401);
  });

  it('refuses a token made for another PKCE challenge: only the transaction’s verifier redeems it', async () => {
    const jar = await signedInAtIssuer(world);
    const mine = await start(jar);
    const other = await start(createCookieJarClient());
    const token = await tokenFor(jar, { ...mine.params, code_challenge: other.params.code_challenge });
    await expectRefusal(await complete(jar, { token }), 400, 'invalid_grant');
    expect(sessionCookie(world, jar)).toBeUndefined();
  });

  it.each([
    ['not JSON', 'token=abc', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['malformed JSON', '{"token":', {}],
    ['no token', '{}', {}],
    ['a token that is no code', '{"token":"<script>alert(1)</script>"}', {}],
    ['an array', '["x"]', {}],
  ])('answers %s with invalid_request, never a 500', async (_, body, headers) => {
    const jar = createCookieJarClient();
    await start(jar);
    const res = await jar.fetch(`${world.app}/fedcm/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: world.app, ...headers },
      body,
    });
    await expectRefusal(res, 400, 'invalid_request');
  });
});
