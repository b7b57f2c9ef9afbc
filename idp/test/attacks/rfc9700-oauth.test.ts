/**
 * Attack battery, OAuth 2.0: RFC 9700 (Security BCP), RFC 6749 and RFC 7636 (PKCE), against a
 * real issuer over real HTTP. Only attacks the feature tests do not already try live here;
 * SECURITY.md lists both. Refusals are asserted with their exact status and OAuth error code,
 * and an untrusted redirect target is never redirected to.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../../src/protocol/registration.js';
import {
  authorizeQuery,
  browserFlow,
  getAuthorize,
  signInAndRedeem,
  basicAuth,
  postToken,
} from '../support/browser.js';
import { countRows, useIssuer } from '../support/fixture.js';

const { idp, fx } = useIssuer();
/** A browser holding alice's SSO session: further codes need no password. */
let jar: CookieJarClient;
/** A confidential client allowed refresh tokens. */
const refreshing = { id: 'attacks-refreshing', secret: 'attacks-refreshing-secret-attacks-refreshing' };
/** A client whose redirect and post-logout URIs no other client has. */
const loner = {
  id: 'attacks-loner',
  redirectUri: 'http://127.0.0.1:9/loner-callback',
  postLogout: 'http://127.0.0.1:9/loner-signed-out',
};
const POST_LOGOUT = 'http://127.0.0.1:9/';

beforeAll(async () => {
  const deps = { store: idp.issuer.ctx.store, clock: idp.clock };
  await registerClient(deps, {
    id: refreshing.id,
    name: 'Refreshing',
    type: 'confidential',
    party: 'first',
    secret: refreshing.secret,
    redirectUris: [fx.redirectUri],
    resources: [fx.api.id],
    grantTypes: ['refresh_token'],
  });
  await registerClient(deps, {
    id: loner.id,
    name: 'Loner',
    type: 'public',
    party: 'first',
    redirectUris: [loner.redirectUri],
    postLogoutRedirectUris: [loner.postLogout],
  });
  ({ jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
});

/** A fresh code for `clientId` from alice's browser, and its PKCE verifier and challenge. */
async function freshCode(clientId: string): Promise<{ code: string; verifier: string; challenge: string }> {
  const { verifier, challenge } = pkcePair();
  const { callback } = await browserFlow(idp.url, { clientId, redirectUri: fx.redirectUri, challenge }, null, jar);
  return { code: callback.searchParams.get('code')!, verifier, challenge };
}

/** POSTs a form to /token. */
const token = (body: URLSearchParams | Record<string, string>, headers: Record<string, string> = {}) =>
  postToken(idp.url, body, headers);

/** An RFC 6749 §5.2 error: exact status and code, no token, not cached. */
function expectTokenError(res: Awaited<ReturnType<typeof token>>, status: number, error: string): void {
  expect({ status: res.status, error: res.json.error }).toEqual({ status, error });
  expect(res.json).not.toHaveProperty('access_token');
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** The issuer's own HTML error page: never a redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11). */
async function expectErrorPage(res: Response, error: string): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await res.text()).toContain(`<code>${error}</code>`);
}

const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

describe('RFC 9700 §4.1, RFC 6749 §3.1.2.3: redirect_uri is compared exactly; no redirect on a mismatch', () => {
  it.each([
    ['with the scheme changed to https', 'https://127.0.0.1:9/callback'],
    ['with userinfo before the registered host', 'http://evil.example@127.0.0.1:9/callback'],
    ['with the registered host as userinfo of another host', 'http://127.0.0.1:9@evil.example/callback'],
    ['with a percent-encoded path', 'http://127.0.0.1:9/%63allback'],
    ['with a dot segment', 'http://127.0.0.1:9/x/../callback'],
    ['with a registered URI as a prefix', 'http://127.0.0.1:9/callbackevil'],
    ['registered only for another client', loner.redirectUri],
  ])('refuses a redirect_uri %s with an HTML page (invalid_request)', async (_, redirectUri) => {
    const before = await countRows(idp, 'interactions');
    await expectErrorPage(
      await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }, { redirect_uri: redirectUri }),
      ),
      'invalid_request',
    );
    expect(await countRows(idp, 'interactions')).toBe(before);
  });

  it('refuses response_mode=fragment, which would move the code into a fragment (RFC 9700 §2.1.2)', async () => {
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }, { response_mode: 'fragment' }),
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.has('code')).toBe(false);
  });
});

describe('RFC 9700 §4.11, RP-Initiated Logout 1.0 §3: post_logout_redirect_uri is never an open redirect', () => {
  /** alice's ID token for the seeded confidential client, whose post-logout URI is POST_LOGOUT. */
  let idTokenHint: string;
  beforeAll(async () => {
    const { tokens } = await signInAndRedeem(
      idp.url,
      { clientId: fx.confidential.id, redirectUri: fx.redirectUri, auth: fx.confidential },
      jar,
    );
    idTokenHint = tokens.id_token as string;
  });

  const logout = (params: Record<string, string> | URLSearchParams, browser?: CookieJarClient) => {
    const url = `${idp.url}/logout?${new URLSearchParams(params)}`;
    return browser ? browser.fetch(url) : fetch(url, { redirect: 'manual' });
  };

  it.each([
    ['an extra path', 'http://127.0.0.1:9/evil'],
    ['an extra query', `${POST_LOGOUT}?next=https://evil.example`],
    ['a fragment', `${POST_LOGOUT}#https://evil.example`],
    ['no trailing slash', 'http://127.0.0.1:9'],
    ['a different case', 'HTTP://127.0.0.1:9/'],
    ['another host', 'https://evil.example/'],
    ['a javascript: URI', 'javascript:alert(document.domain)'],
    ['the URI registered for another client', loner.postLogout],
  ])('refuses a post_logout_redirect_uri with %s, under a valid id_token_hint, with a page', async (_, uri) => {
    await expectErrorPage(
      await logout({ id_token_hint: idTokenHint, post_logout_redirect_uri: uri }),
      'invalid_request',
    );
  });

  it('refuses another client’s registered URI with its client_id and this client’s id_token_hint', async () => {
    await expectErrorPage(
      await logout({ id_token_hint: idTokenHint, client_id: loner.id, post_logout_redirect_uri: loner.postLogout }),
      'invalid_request',
    );
  });

  it('refuses a post_logout_redirect_uri with neither id_token_hint nor client_id', async () => {
    await expectErrorPage(await logout({ post_logout_redirect_uri: POST_LOGOUT }), 'invalid_request');
  });

  it('refuses a repeated post_logout_redirect_uri (RFC 6749 §3.1) without redirecting to either', async () => {
    const q = new URLSearchParams({ id_token_hint: idTokenHint, post_logout_redirect_uri: POST_LOGOUT });
    q.append('post_logout_redirect_uri', 'https://evil.example/');
    await expectErrorPage(await logout(q), 'invalid_request');
  });

  it('refuses an unregistered URI posted to the confirmation form, and keeps the session', async () => {
    const { jar: browser } = await signInAndRedeem(idp.url, {
      clientId: fx.publicClient.id,
      redirectUri: fx.redirectUri,
    });
    const page = await (await logout({ client_id: fx.confidential.id }, browser)).text();
    const res = await browser.fetch(`${idp.url}/logout/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({
        csrf_token: formValue(page, 'csrf_token')!,
        client_id: fx.confidential.id,
        post_logout_redirect_uri: 'https://evil.example/',
      }),
    });
    await expectErrorPage(res, 'invalid_request');
    const again = await browserFlow(
      idp.url,
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri, extra: { prompt: 'none' } },
      null,
      browser,
    );
    expect(again.callback.searchParams.get('code')).toBeTruthy();
  });
});

describe('RFC 7636 §4.6, RFC 9700 §2.1.1: PKCE binds the code to the browser that asked for it', () => {
  it('refuses the verifier of another code as invalid_grant, creating no grant', async () => {
    const a = await freshCode(fx.publicClient.id);
    const b = await freshCode(fx.publicClient.id);
    const grants = await countRows(idp, 'grants');
    expectTokenError(
      await token({
        grant_type: 'authorization_code',
        code: a.code,
        code_verifier: b.verifier,
        redirect_uri: fx.redirectUri,
        client_id: fx.publicClient.id,
      }),
      400,
      'invalid_grant',
    );
    expect(await countRows(idp, 'grants')).toBe(grants);
  });

  it('refuses the code_challenge as verifier (plain downgrade at the token endpoint) with invalid_grant', async () => {
    const { code, challenge } = await freshCode(fx.publicClient.id);
    expectTokenError(
      await token({
        grant_type: 'authorization_code',
        code,
        code_verifier: challenge,
        redirect_uri: fx.redirectUri,
        client_id: fx.publicClient.id,
      }),
      400,
      'invalid_grant',
    );
  });

  it('refuses a confidential client sending no code_verifier as invalid_request: PKCE for every client', async () => {
    const { code } = await freshCode(fx.confidential.id);
    expectTokenError(
      await token(
        { grant_type: 'authorization_code', code, redirect_uri: fx.redirectUri },
        { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) },
      ),
      400,
      'invalid_request',
    );
  });

  it('refuses a verifier outside RFC 7636 §4.1 syntax (too short) as invalid_grant', async () => {
    const { code } = await freshCode(fx.publicClient.id);
    expectTokenError(
      await token({
        grant_type: 'authorization_code',
        code,
        code_verifier: 'short',
        redirect_uri: fx.redirectUri,
        client_id: fx.publicClient.id,
      }),
      400,
      'invalid_grant',
    );
  });
});

describe('RFC 6749 §4.1.2, §4.1.3, RFC 9700 §4.2.4: a code is single-use and bound to its client', () => {
  it('refuses a replayed code and revokes the refresh token and access token of its first use', async () => {
    const { code, verifier } = await freshCode(refreshing.id);
    const auth = { authorization: basicAuth(refreshing.id, refreshing.secret) };
    const body = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: fx.redirectUri };
    const first = await token(body, auth);
    expect(first.status).toBe(200);
    expect(first.json.refresh_token).toBeTruthy();
    expectTokenError(await token(body, auth), 400, 'invalid_grant');
    expectTokenError(
      await token({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token as string }, auth),
      400,
      'invalid_grant',
    );
    expect(await userinfoStatus(first.json.access_token as string)).toBe(401);
  });

  it('refuses a code redeemed by another confidential client with its own secret; its client still can', async () => {
    const { code, verifier } = await freshCode(fx.confidential.id);
    const body = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: fx.redirectUri };
    expectTokenError(
      await token(body, { authorization: basicAuth(fx.thirdParty.id, fx.thirdParty.secret) }),
      400,
      'invalid_grant',
    );
    expect((await token(body, { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) })).status).toBe(
      200,
    );
  });
});

describe('RFC 6749 §3.1, §3.2: repeated parameters at the token endpoint', () => {
  it.each([
    { refusal: 'a repeated client_id naming two clients', parameter: 'client_id', second: () => fx.confidential.id },
    { refusal: 'a repeated code_verifier', parameter: 'code_verifier', second: () => pkcePair().verifier },
  ])('refuses $refusal as invalid_request', async ({ parameter, second }) => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: fx.redirectUri,
      client_id: fx.publicClient.id,
    });
    body.append(parameter, second());
    expectTokenError(await token(body), 400, 'invalid_request');
  });
});

describe('RFC 9700 §2.4: no resource owner password credentials grant', () => {
  it('refuses grant_type=password from a public client as unsupported_grant_type', async () => {
    expectTokenError(
      await token({
        grant_type: 'password',
        username: 'alice@example.com',
        password: 'correct horse battery staple',
        client_id: fx.publicClient.id,
      }),
      400,
      'unsupported_grant_type',
    );
  });
});
