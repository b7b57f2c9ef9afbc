/**
 * Token status lists at the issuer (draft-ietf-oauth-status-list-21): the `status` claim of every
 * access token, the signed lists served for it, revocations that set its bit, and an API that
 * verifies tokens on its own refusing a revoked one within the list ttl.
 */
import { Hono } from 'hono';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createRemoteKeySet,
  createStatusListChecker,
  inflateStatusList,
  requireBearer,
  statusAt,
  type AccessTokenEnv,
  type StatusListReference,
} from '@tessera/shared';
import { ConfigError } from '@tessera/shared';
import { loadConfig } from '../src/config/load-config.js';
import { browserFlow, redeem, signInAndRedeem } from './support/browser.js';
import { registerWebClient, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();
const web = { id: 'status-web', secret: 'status-web-secret-status-web-secret-status' };
const TTL = 60;

beforeAll(async () => {
  await registerWebClient(idp, fx, { ...web, name: 'Status Web' });
});

const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
const referenceOf = (accessToken: string) =>
  (decodeJwt(accessToken).status as { status_list: StatusListReference }).status_list;

async function signedIn(client: { id: string; secret: string } = fx.confidential) {
  const { tokens, jar } = await signInAndRedeem(idp.url, {
    clientId: client.id,
    redirectUri: fx.redirectUri,
    auth: client,
    // RFC 8707: a token for the API the tests below stand for.
    extra: { resource: fx.api.id },
  });
  return {
    accessToken: tokens.access_token as string,
    idToken: tokens.id_token as string,
    refreshToken: tokens.refresh_token as string | undefined,
    jar,
  };
}

async function jwks(): Promise<JSONWebKeySet> {
  return (await fetch(`${idp.url}/jwks`)).json() as Promise<JSONWebKeySet>;
}

/** Fetches the list the token names, verifies it as a verifier would, and reads the token's entry. */
async function statusOf(accessToken: string): Promise<number> {
  const ref = referenceOf(accessToken);
  const res = await fetch(ref.uri, { headers: { accept: 'application/statuslist+jwt' } });
  expect(res.status).toBe(200);
  const { payload } = await jwtVerify(await res.text(), createLocalJWKSet(await jwks()), {
    typ: 'statuslist+jwt',
    issuer: idp.url,
    subject: ref.uri,
    currentDate: new Date(idp.clock.now()),
  });
  const list = payload.status_list as { bits: 1; lst: string };
  return statusAt(await inflateStatusList(list.lst, 1 << 20), list.bits, ref.idx)!;
}

async function revoke(token: string, client: { id: string; secret: string } = fx.confidential) {
  const res = await fetch(`${idp.url}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
}

describe('TESSERA_STATUS_LIST_TTL', () => {
  it('is 60 s by default, takes a duration, and stops the start naming itself when out of range', () => {
    expect(loadConfig({}).statusListTtl).toBe(60);
    expect(loadConfig({ TESSERA_STATUS_LIST_TTL: '5m' }).statusListTtl).toBe(300);
    for (const bad of ['0', '2h', 'soon']) {
      expect(() => loadConfig({ TESSERA_STATUS_LIST_TTL: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ TESSERA_STATUS_LIST_TTL: bad })).toThrow(/^TESSERA_STATUS_LIST_TTL: /);
    }
  });
});

describe('the status claim', () => {
  it('names, in every access token, its own entry of a list served by the issuer', async () => {
    const a = referenceOf((await signedIn()).accessToken);
    const b = referenceOf((await signedIn()).accessToken);
    expect(a.uri).toMatch(new RegExp(`^${idp.url}/statuslists/[1-9][0-9]*$`));
    expect(Number.isInteger(a.idx) && a.idx >= 0).toBe(true);
    expect(b.uri).toBe(a.uri);
    expect(b.idx).not.toBe(a.idx);
  });
});

describe('the Status List Token', () => {
  it('is a statuslist+jwt signed with the issuer key, verifiable against the JWKS, with the token VALID', async () => {
    const { accessToken } = await signedIn();
    const ref = referenceOf(accessToken);
    const res = await fetch(ref.uri);
    expect(res.headers.get('content-type')).toBe('application/statuslist+jwt');
    const token = await res.text();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      typ: 'statuslist+jwt',
      currentDate: new Date(idp.clock.now()),
    });
    expect(protectedHeader).toMatchObject({ typ: 'statuslist+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({
      iss: idp.url,
      sub: ref.uri,
      ttl: TTL,
      status_list: { bits: 1, lst: expect.any(String) },
    });
    expect(payload.exp! - payload.iat!).toBe(2 * TTL);
    expect(await statusOf(accessToken)).toBe(0);
  });

  it('is cacheable for its ttl, has an ETag, allows any origin, answers 304 to a matching If-None-Match', async () => {
    const ref = referenceOf((await signedIn()).accessToken);
    const first = await fetch(ref.uri, { headers: { origin: 'http://app-b.localhost:4002' } });
    expect(first.headers.get('cache-control')).toBe(`public, max-age=${TTL}`);
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    const again = await fetch(ref.uri, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
  });

  it('is signed once and served as is until the list changes or less than a ttl of its life is left', async () => {
    const ref = referenceOf((await signedIn()).accessToken);
    const body = async () => (await fetch(ref.uri)).text();
    const first = await body();
    // New tokens take new indices: the list is unchanged, so is its token.
    await signedIn();
    idp.clock.advance(TTL - 5);
    expect(await body()).toBe(first);
    idp.clock.advance(10);
    const renewed = await body();
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).iat).toBeGreaterThan(decodeJwt(first).iat!);
  });

  it('answers 404 for a missing list, 501 for a historical request and 406 for another format', async () => {
    const ref = referenceOf((await signedIn()).accessToken);
    expect((await fetch(`${idp.url}/statuslists/999999`)).status).toBe(404);
    expect((await fetch(`${idp.url}/statuslists/0`)).status).toBe(404);
    expect((await fetch(`${idp.url}/statuslists/x1`)).status).toBe(404);
    expect((await fetch(`${ref.uri}?time=1686925000`)).status).toBe(501);
    expect((await fetch(ref.uri, { headers: { accept: 'application/statuslist+cwt' } })).status).toBe(406);
    expect((await fetch(ref.uri, { headers: { accept: 'application/json, */*;q=0.1' } })).status).toBe(200);
  });

  it('is listed by the aggregation endpoint that discovery advertises', async () => {
    const ref = referenceOf((await signedIn()).accessToken);
    const meta = (await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.status_list_aggregation_endpoint).toBe(`${idp.url}/statuslists`);
    const res = await fetch(meta.status_list_aggregation_endpoint as string);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { status_lists: string[] }).status_lists).toContain(ref.uri);
  });
});

describe('revocation sets the bit', () => {
  it('of an access token revoked at the revocation endpoint (RFC 7009), and of no other', async () => {
    const revoked = await signedIn();
    const kept = await signedIn();
    await revoke(revoked.accessToken);
    expect(await statusOf(revoked.accessToken)).toBe(1);
    expect(await statusOf(kept.accessToken)).toBe(0);
  });

  it('of every access token of a refresh-token family revoked by its refresh token', async () => {
    const first = await signedIn(web);
    const refreshed = await fetch(`${idp.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(web) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refreshToken! }),
    });
    const second = (await refreshed.json()) as { access_token: string; refresh_token: string };
    await revoke(second.refresh_token, web);
    expect(await statusOf(first.accessToken)).toBe(1);
    expect(await statusOf(second.access_token)).toBe(1);
  });

  it("of the session's access tokens when the session ends at /logout with an id_token_hint", async () => {
    const { accessToken, idToken, jar } = await signedIn();
    const res = await jar.fetch(`${idp.url}/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
    expect(res.status).toBeLessThan(400);
    expect(await statusOf(accessToken)).toBe(1);
  });

  it('of the access token issued from an authorization code presented again', async () => {
    const { callback, verifier } = await browserFlow(
      idp.url,
      { clientId: fx.confidential.id, redirectUri: fx.redirectUri },
      { email: 'alice@example.com' },
    );
    const body = { code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: fx.redirectUri };
    const first = await redeem(idp.url, body, fx.confidential);
    expect((await redeem(idp.url, body, fx.confidential)).status).toBe(400);
    expect(await statusOf(first.json.access_token as string)).toBe(1);
  });
});

describe('an API that verifies tokens on its own', () => {
  /** A resource server with the shared verifier, status lists on, on the issuer's (test) clock. */
  function api() {
    const now = () => idp.clock.now();
    const keySet = createRemoteKeySet(`${idp.url}/jwks`, { now });
    const statusLists = createStatusListChecker({ issuer: idp.url, keySet, now });
    const app = new Hono<AccessTokenEnv>();
    app.use('/api/*', requireBearer({ issuer: idp.url, audience: fx.api.id, keySet, statusLists, now }));
    app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
    return (token: string) => app.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
  }

  it('refuses a revoked, unexpired access token within the list ttl, with no back-channel logout', async () => {
    const call = api();
    const { accessToken } = await signedIn();
    expect((await call(accessToken)).status).toBe(200);

    await revoke(accessToken);
    // A verifier that has not seen the list yet refuses at once; one holding it, once its ttl has run.
    expect((await api()(accessToken)).status).toBe(401);
    idp.clock.advance(TTL - 1);
    expect((await call(accessToken)).status).toBe(200);
    idp.clock.advance(1);
    expect(decodeJwt(accessToken).exp! * 1000).toBeGreaterThan(idp.clock.now());
    const refused = await call(accessToken);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'invalid_token', error_description: 'The access token was revoked' });
  });

  it('keeps accepting tokens that were not revoked', async () => {
    const call = api();
    const { accessToken } = await signedIn();
    await revoke((await signedIn()).accessToken);
    idp.clock.advance(TTL);
    expect((await call(accessToken)).status).toBe(200);
  });
});
