/**
 * The UserInfo endpoint (OIDC Core §5.3) as a bearer-token resource (RFC 6750): claims by scope,
 * and `invalid_token` for anything that is not a live access token of this issuer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import type { CookieJarClient } from '@tessera/shared/testing';
import { useIssuer } from './support/fixture.js';
import { redeemThroughSession, signInAndRedeem } from './support/browser.js';

const { idp, fx } = useIssuer();
let jar: CookieJarClient;
let accessToken: string;
let idToken: string;

beforeAll(async () => {
  const first = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
  jar = first.jar;
  accessToken = first.tokens.access_token as string;
  idToken = first.tokens.id_token as string;
});

/** An access token for `scope`, through alice's SSO session. */
async function accessTokenFor(scope: string): Promise<string> {
  const { json } = await redeemThroughSession(
    idp.url,
    { clientId: fx.publicClient.id, redirectUri: fx.redirectUri, scope },
    jar,
  );
  return json.access_token as string;
}

const userinfo = (headers: Record<string, string> = {}, init: RequestInit = {}) =>
  fetch(new URL('/userinfo', idp.url), { ...init, headers });

async function expectBearerError(res: Response, status: number, error: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(((await res.json()) as { error: string }).error).toBe(error);
  expect(res.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="tessera", error="${error}"`));
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe('userinfo answers', () => {
  it('the claims the scopes allow, and no more', async () => {
    const res = await userinfo({ authorization: `Bearer ${await accessTokenFor('openid')}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: fx.alice.sub });
    const withEmail = await userinfo({ authorization: `Bearer ${await accessTokenFor('openid email')}` });
    expect(await withEmail.json()).toEqual({ sub: fx.alice.sub, email: 'alice@example.com', email_verified: true });
  });

  it('a token sent in a form body (RFC 6750 §2.2)', async () => {
    const res = await userinfo(
      { 'content-type': 'application/x-www-form-urlencoded' },
      { method: 'POST', body: new URLSearchParams({ access_token: accessToken }) },
    );
    expect(res.status).toBe(200);
  });

  it('never to be cached', async () => {
    const res = await userinfo({ authorization: `Bearer ${accessToken}` });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('userinfo refuses', () => {
  it('a request without a token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const res = await userinfo();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
  });

  it('a malformed token as invalid_token', async () => {
    await expectBearerError(await userinfo({ authorization: 'Bearer not.a.jwt' }), 401, 'invalid_token');
  });

  it('an ID token presented as an access token (typ is not at+jwt)', async () => {
    await expectBearerError(await userinfo({ authorization: `Bearer ${idToken}` }), 401, 'invalid_token');
  });

  it('an access token with a tampered payload', async () => {
    const [h, p, s] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    await expectBearerError(await userinfo({ authorization: `Bearer ${h}.${forged}.${s}` }), 401, 'invalid_token');
  });

  it('a token signed with a key the issuer does not hold, even under its kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const kid = decodeProtectedHeader(accessToken).kid!;
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey);
    await expectBearerError(await userinfo({ authorization: `Bearer ${forged}` }), 401, 'invalid_token');
  });

  it('an unsigned token (alg none)', async () => {
    const claims = accessToken.split('.')[1]!;
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    await expectBearerError(await userinfo({ authorization: `Bearer ${header}.${claims}.` }), 401, 'invalid_token');
  });

  it('a token without the openid scope as insufficient_scope (403)', async () => {
    await expectBearerError(
      await userinfo({ authorization: `Bearer ${await accessTokenFor('profile')}` }),
      403,
      'insufficient_scope',
    );
  });

  it('a token sent both in the header and in the body as invalid_request', async () => {
    const res = await userinfo(
      { authorization: `Bearer ${accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      { method: 'POST', body: new URLSearchParams({ access_token: accessToken }) },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('an access token after it expired', async () => {
    const token = await accessTokenFor('openid');
    idp.clock.advance(301);
    await expectBearerError(await userinfo({ authorization: `Bearer ${token}` }), 401, 'invalid_token');
  });
});
