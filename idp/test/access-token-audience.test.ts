/**
 * Whom an access token is for (RFC 9068 §3 `aud`, RFC 8707): a client that names no resource gets
 * one only when it is allowed exactly one, and otherwise a token for the UserInfo endpoint alone;
 * with `openid` granted, the UserInfo endpoint is among the audiences. The UserInfo endpoint takes
 * only tokens that name it (or the issuer) among their audiences (OIDC Core §5.3, RFC 9068 §4).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { TOKEN_TYPES } from '@tessera/shared';
import type { CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../src/protocol/registration.js';
import { useIssuer } from './support/fixture.js';
import { redeemThroughSession, signInAndRedeem } from './support/browser.js';

const { idp, fx } = useIssuer();
let jar: CookieJarClient;
let userinfoEndpoint: string;

/** Public clients allowed exactly one API, none, and two with refresh tokens. */
const ONE_API = 'one-api-app';
const NO_API = 'no-api-app';
const REFRESHING = 'refreshing-app';

beforeAll(async () => {
  userinfoEndpoint = `${idp.url}/userinfo`;
  const { store, clock } = idp.issuer.ctx;
  for (const [id, resources] of [
    [ONE_API, [fx.api.id]],
    [NO_API, []],
    [REFRESHING, [fx.api.id, fx.other.id]],
  ] as const) {
    await registerClient(
      { store, clock },
      {
        id,
        name: id,
        type: 'public',
        party: 'first',
        redirectUris: [fx.redirectUri],
        postLogoutRedirectUris: [],
        scopes: ['openid', 'profile', 'email'],
        resources: [...resources],
        grantTypes: id === REFRESHING ? ['refresh_token'] : [],
      },
    );
  }
  ({ jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
});

/** The token response for `clientId`, through alice's SSO session. */
async function tokensFor(
  clientId: string,
  options: { scope?: string; resource?: string } = {},
): Promise<Record<string, unknown>> {
  const authorization = {
    clientId,
    redirectUri: fx.redirectUri,
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.resource ? { extra: { resource: options.resource } } : {}),
  };
  return (await redeemThroughSession(idp.url, authorization, jar)).json;
}

const audienceOf = async (clientId: string, options: { scope?: string; resource?: string } = {}) =>
  decodeJwt((await tokensFor(clientId, options)).access_token as string).aud;

async function refresh(body: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(new URL('/token', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: REFRESHING, ...body }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`refresh failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const userinfo = (token: string) =>
  fetch(new URL('/userinfo', idp.url), { headers: { authorization: `Bearer ${token}` } });

/** A live access token of the issuer, re-signed by it with another `aud`. */
async function withAudience(aud: string | string[]): Promise<string> {
  const token = (await tokensFor(fx.publicClient.id)).access_token as string;
  return idp.issuer.ctx.keys.sign({ ...decodeJwt(token), aud }, TOKEN_TYPES.accessToken);
}

describe('a client that names no resource (RFC 8707) gets an access token', () => {
  it('for the UserInfo endpoint alone when it is allowed several resources', async () => {
    expect(await audienceOf(fx.publicClient.id)).toBe(userinfoEndpoint);
  });

  it('for the UserInfo endpoint alone when it is allowed none', async () => {
    expect(await audienceOf(NO_API)).toBe(userinfoEndpoint);
  });

  it('for its one resource, and the UserInfo endpoint, when it is allowed exactly one', async () => {
    expect(await audienceOf(ONE_API)).toEqual([fx.api.id, userinfoEndpoint]);
  });

  it('for its one resource alone when openid is not granted', async () => {
    expect(await audienceOf(ONE_API, { scope: 'profile' })).toBe(fx.api.id);
  });

  it('from a refresh that names none either, for what the grant was for', async () => {
    const tokens = await tokensFor(REFRESHING, { resource: fx.other.id });
    const refreshed = await refresh({ refresh_token: tokens.refresh_token as string });
    expect(decodeJwt(refreshed.access_token as string).aud).toEqual([fx.other.id, userinfoEndpoint]);
  });
});

describe('a refresh gets an access token', () => {
  it('for the other resource it names, and the UserInfo endpoint', async () => {
    const tokens = await tokensFor(REFRESHING);
    const refreshed = await refresh({ refresh_token: tokens.refresh_token as string, resource: fx.api.id });
    expect(decodeJwt(refreshed.access_token as string).aud).toEqual([fx.api.id, userinfoEndpoint]);
  });

  it('for its resource alone when it narrows the scope to leave out openid', async () => {
    const tokens = await tokensFor(REFRESHING, { resource: fx.api.id });
    const refreshed = await refresh({ refresh_token: tokens.refresh_token as string, scope: 'email' });
    expect(decodeJwt(refreshed.access_token as string).aud).toBe(fx.api.id);
  });
});

describe('a client that names a resource gets an access token', () => {
  it('for that resource, and the UserInfo endpoint when openid is granted', async () => {
    expect(await audienceOf(fx.publicClient.id, { resource: fx.other.id })).toEqual([fx.other.id, userinfoEndpoint]);
  });

  it('for that resource alone without openid', async () => {
    expect(await audienceOf(fx.publicClient.id, { scope: 'email', resource: fx.api.id })).toBe(fx.api.id);
  });
});

describe('the UserInfo endpoint', () => {
  it('answers a token for the UserInfo endpoint alone', async () => {
    const res = await userinfo((await tokensFor(fx.publicClient.id)).access_token as string);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(fx.alice.sub);
  });

  it('answers a token for a resource and the UserInfo endpoint', async () => {
    const token = (await tokensFor(fx.publicClient.id, { resource: fx.api.id })).access_token as string;
    expect((await userinfo(token)).status).toBe(200);
  });

  it('answers a token whose audience is the issuer', async () => {
    expect((await userinfo(await withAudience(idp.url))).status).toBe(200);
  });

  it.each([
    ['an API alone', () => fx.api.id],
    ['two APIs', () => [fx.api.id, fx.other.id]],
    ['a look-alike of the endpoint', () => `${userinfoEndpoint}/`],
  ])('refuses a token for %s with 401 invalid_token (RFC 6750 §3.1)', async (_, aud) => {
    const res = await userinfo(await withAudience(aud()));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="tessera", error="invalid_token"/);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
  });
});
