/**
 * Attack battery, OpenID Connect Core 1.0 and RP-Initiated Logout 1.0, against a real issuer over
 * real HTTP: the nonce the issuer returns, prompt=none without a real session, a `sub` that does
 * not move, and id_token_hint values the issuer did not issue as ID tokens. Attacks the feature
 * tests already try (prompt.test.ts, logout.test.ts) are listed in SECURITY.md, not repeated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { base64url, decodeJwt } from 'jose';
import { createCookieJarClient, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../../src/protocol/registration.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, signInAndRedeem, submitSignIn } from '../support/browser.js';
import { PASSWORD, registerPerson, useIssuer } from '../support/fixture.js';

const { idp, fx } = useIssuer();
/** A browser holding alice's SSO session. */
let jar: CookieJarClient;

beforeAll(async () => {
  await registerPerson(idp, 'bob@example.com', 'Bob');
  ({ jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
});

/**
 * Runs an authorization in `jar` with `overrides` (null drops a parameter) and redeems the code:
 * the ID token's claims.
 */
async function idTokenFor(overrides: Record<string, string | null>, browser = jar): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkcePair();
  const q = authorizeQuery(
    { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
    { code_challenge: challenge, ...overrides },
  );
  const res = await getAuthorize(idp.url, q, browser);
  const callback = locationOf(res, idp.url)!;
  const code = callback.searchParams.get('code');
  expect(code, callback.href).toBeTruthy();
  const tokens = await redeem(idp.url, {
    code: code!,
    code_verifier: verifier,
    redirect_uri: fx.redirectUri,
    client_id: fx.publicClient.id,
  });
  expect(tokens.status).toBe(200);
  return decodeJwt(tokens.json.id_token as string);
}

describe('OIDC Core §3.1.2.1, §3.1.3.7 step 11: the ID token carries exactly the nonce of its request', () => {
  it('echoes a nonce with spaces, quotes, reserved and non-ASCII characters byte for byte', async () => {
    const nonce = `n "quoted" & <b> ?x=1#frag é 😀 ${'z'.repeat(200)}`;
    expect((await idTokenFor({ nonce })).nonce).toBe(nonce);
  });

  it('puts no nonce in the ID token when the request sent none', async () => {
    const claims = await idTokenFor({ nonce: null });
    expect(claims).not.toHaveProperty('nonce');
  });

  it('puts no nonce in the ID token for an empty nonce parameter (RFC 6749 §3.1: treated as omitted)', async () => {
    expect(await idTokenFor({ nonce: '' })).not.toHaveProperty('nonce');
  });

  it('keeps the nonces of two interleaved authorizations in one browser apart', async () => {
    const a = pkcePair();
    const b = pkcePair();
    const authorize = (challenge: string, nonce: string) =>
      getAuthorize(
        idp.url,
        authorizeQuery(
          { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
          { code_challenge: challenge, nonce },
        ),
        jar,
      );
    const resA = await authorize(a.challenge, 'nonce-A');
    const resB = await authorize(b.challenge, 'nonce-B');
    // Redeemed in the other order.
    const redeemed = async (res: Response, verifier: string) =>
      decodeJwt(
        (
          await redeem(idp.url, {
            code: locationOf(res, idp.url)!.searchParams.get('code')!,
            code_verifier: verifier,
            redirect_uri: fx.redirectUri,
            client_id: fx.publicClient.id,
          })
        ).json.id_token as string,
      ).nonce;
    expect(await redeemed(resB, b.verifier)).toBe('nonce-B');
    expect(await redeemed(resA, a.verifier)).toBe('nonce-A');
  });

  it('puts no nonce in an ID token issued at refresh (OIDC Core §12.2: it was the sign-in request’s)', async () => {
    const { store, clock } = idp.issuer.ctx;
    await registerClient(
      { store, clock },
      {
        id: 'oidc-refreshing',
        name: 'Refreshing',
        type: 'public',
        party: 'first',
        redirectUris: [fx.redirectUri],
        grantTypes: ['refresh_token'],
      },
    );
    const { tokens } = await signInAndRedeem(
      idp.url,
      { clientId: 'oidc-refreshing', redirectUri: fx.redirectUri, nonce: 'only-at-sign-in' },
      jar,
    );
    expect(decodeJwt(tokens.id_token as string).nonce).toBe('only-at-sign-in');
    const res = await fetch(`${idp.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token as string,
        client_id: 'oidc-refreshing',
      }),
    });
    const refreshed = (await res.json()) as { id_token: string };
    expect(decodeJwt(refreshed.id_token)).not.toHaveProperty('nonce');
  });
});

describe('OIDC Core §3.1.2.6: prompt=none without a real session answers login_required', () => {
  it.each([
    ['a made-up session cookie', 'A'.repeat(43)],
    ['an oversized session cookie', 'A'.repeat(4000)],
    ['a session cookie with SQL characters', "x' OR '1'='1"],
  ])('answers prompt=none with %s with login_required and no code', async (_, cookie) => {
    const browser = createCookieJarClient();
    browser.setCookie(idp.url, 'tessera_session', encodeURIComponent(cookie));
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { prompt: 'none' }),
      browser,
    );
    expect(res.status).toBe(302);
    const location = locationOf(res, idp.url)!;
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('iss')).toBe(idp.url);
    expect(location.searchParams.has('code')).toBe(false);
  });
});

describe('OIDC Core §2, §5.7: sub is stable and does not follow what the person types', () => {
  it('gives the same sub when alice signs in with her email in another case', async () => {
    const browser = createCookieJarClient();
    const { verifier, challenge } = pkcePair();
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { code_challenge: challenge }),
      browser,
    );
    const signedIn = await submitSignIn(browser, idp.url, locationOf(res, idp.url)!, 'ALICE@EXAMPLE.COM', PASSWORD);
    const code = locationOf(signedIn, idp.url)!.searchParams.get('code')!;
    const tokens = await redeem(idp.url, {
      code,
      code_verifier: verifier,
      redirect_uri: fx.redirectUri,
      client_id: fx.publicClient.id,
    });
    expect(decodeJwt(tokens.json.id_token as string).sub).toBe(fx.alice.sub);
  });

  it('gives the same sub to two different clients (public subject type), and another sub to bob', async () => {
    const forPublic = await idTokenFor({});
    const { tokens } = await signInAndRedeem(
      idp.url,
      { clientId: fx.confidential.id, redirectUri: fx.redirectUri, auth: fx.confidential },
      jar,
    );
    expect(decodeJwt(tokens.id_token as string).sub).toBe(forPublic.sub);
    const bob = await signInAndRedeem(idp.url, {
      clientId: fx.publicClient.id,
      redirectUri: fx.redirectUri,
      email: 'bob@example.com',
    });
    expect(decodeJwt(bob.tokens.id_token as string).sub).not.toBe(forPublic.sub);
  });
});

describe('RP-Initiated Logout 1.0 §2: id_token_hint must be an ID token this issuer signed', () => {
  /** A fresh browser signed in as alice, and its tokens for the confidential client. */
  async function signedIn() {
    return signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
  }

  /** Whether `browser` still has its SSO session. */
  async function stillSignedIn(browser: CookieJarClient): Promise<boolean> {
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { prompt: 'none' }),
      browser,
    );
    return locationOf(res, idp.url)!.searchParams.has('code');
  }

  const logout = (browser: CookieJarClient, params: Record<string, string>) =>
    browser.fetch(`${idp.url}/logout?${new URLSearchParams(params)}`);

  async function expectRefusedHint(browser: CookieJarClient, hint: string): Promise<void> {
    const res = await logout(browser, { id_token_hint: hint, post_logout_redirect_uri: 'http://127.0.0.1:9/' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('<code>invalid_request</code>');
    expect(await stillSignedIn(browser)).toBe(true);
  }

  it('refuses an access token as id_token_hint (typ at+jwt) and keeps the session', async () => {
    const { jar: browser, tokens } = await signedIn();
    await expectRefusedHint(browser, tokens.access_token as string);
  });

  it('refuses an unsigned (alg none) copy of a real ID token as id_token_hint', async () => {
    const { jar: browser, tokens } = await signedIn();
    const payload = (tokens.id_token as string).split('.')[1];
    await expectRefusedHint(browser, `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`);
  });

  it('refuses an ID token with a tampered payload as id_token_hint', async () => {
    const { jar: browser, tokens } = await signedIn();
    const [h, p, s] = (tokens.id_token as string).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    await expectRefusedHint(
      browser,
      `${h}.${base64url.encode(JSON.stringify({ ...claims, sub: 'someone-else' }))}.${s}`,
    );
  });

  it('refuses a logout token the issuer signed (typ logout+jwt) as id_token_hint', async () => {
    const { jar: browser, tokens } = await signedIn();
    const id = decodeJwt(tokens.id_token as string);
    const now = Math.floor(Date.now() / 1000);
    const logoutToken = await idp.issuer.ctx.keys.sign(
      {
        iss: idp.url,
        aud: fx.confidential.id,
        sub: id.sub!, // an ID token always has one (OIDC Core §2)
        sid: id.sid,
        iat: now,
        exp: now + 120,
        jti: 'lt-1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      },
      'logout+jwt',
    );
    await expectRefusedHint(browser, logoutToken);
  });

  /** The claims of `idToken`, signed again by the issuer's current key with `times` in place of its own. */
  const resignedIdToken = (idToken: string, times: { iat: number; exp: number; nbf?: number }) =>
    idp.issuer.ctx.keys.sign({ ...decodeJwt(idToken), ...times }, 'JWT');

  it('takes an expired ID token of this session as id_token_hint, signs out at once (§2: exp may pass)', async () => {
    const { jar: browser, tokens } = await signedIn();
    const now = Math.floor(idp.clock.now() / 1000);
    const expired = await resignedIdToken(tokens.id_token as string, { iat: now - 7200, exp: now - 3600 });
    const res = await logout(browser, { id_token_hint: expired, post_logout_redirect_uri: 'http://127.0.0.1:9/' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://127.0.0.1:9/');
    expect(await stillSignedIn(browser)).toBe(false);
  });

  // Ignoring expiry for the hint ignores exp alone: a token not yet valid (RFC 7519 §4.1.5) is no hint.
  it.each([
    ['unexpired', 3600],
    ['expired', -3600],
  ])('refuses an ID token of this session whose nbf is in the future as id_token_hint (%s)', async (_, expIn) => {
    const { jar: browser, tokens } = await signedIn();
    const now = Math.floor(idp.clock.now() / 1000);
    const notYetValid = await resignedIdToken(tokens.id_token as string, {
      iat: now,
      nbf: now + 600,
      exp: now + expIn,
    });
    await expectRefusedHint(browser, notYetValid);
  });

  it('asks before signing out on another person’s valid ID token, never at once (logout CSRF, §6)', async () => {
    const bob = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
      email: 'bob@example.com',
    });
    const { jar: alice } = await signedIn();
    const res = await logout(alice, { id_token_hint: bob.tokens.id_token as string });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('csrf_token');
    expect(await stillSignedIn(alice)).toBe(true);
  });
});
