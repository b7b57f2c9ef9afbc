/**
 * The client credentials grant (RFC 6749 §4.4) for machine clients: openid-client, unmodified, gets
 * a JWT access token (RFC 9068) whose `sub` is the client, for one API and only the scopes that API
 * defines and the client was allowed; the shared kit verifies it as an API would; it can be
 * introspected and revoked like a person's token; every refusal carries the RFC's error code and
 * stores nothing.
 */
import { describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { Hono } from 'hono';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  createRemoteKeySet,
  createStatusListChecker,
  requireBearer,
  verifyAccessToken,
  type AccessTokenEnv,
} from '@tessera/shared';
import { RegistrationError, registerClient, registerResource, type ClientInput } from '../src/protocol/registration.js';
import { basicAuth, postToken, expectTokenRefusal } from './support/browser.js';
import { registration, registerWebClient, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

const INVENTORY = 'https://inventory.example.test';
const BILLING = 'https://billing.example.test';
const robot = { id: 'robot', secret: 'robot-secret-robot-secret-robot-secret' };
const twoApis = { id: 'robot-two-apis', secret: 'robot-two-apis-secret-robot-two-apis' };

/** Two APIs with scopes of their own, and machine clients allowed some of them. */
async function register() {
  const deps = registration(idp);
  if (await deps.store.resources.findById(INVENTORY)) return;
  await registerResource(deps, { id: INVENTORY, name: 'Inventory', scopes: ['inventory:read', 'inventory:write'] });
  await registerResource(deps, { id: BILLING, name: 'Billing', scopes: ['billing:read'] });
  const machine = {
    type: 'confidential',
    party: 'first',
    redirectUris: [] as string[],
    grantTypes: ['client_credentials'] as string[],
  } satisfies Partial<ClientInput>;
  await registerClient(deps, {
    ...robot,
    ...machine,
    name: 'Robot',
    resources: [INVENTORY],
    scopes: ['inventory:read'],
  });
  await registerClient(deps, { ...twoApis, ...machine, name: 'Robot (two APIs)', resources: [INVENTORY, BILLING] });
}

const grant = (auth: { id: string; secret: string }, params: Record<string, string> = {}) =>
  postToken(
    idp.url,
    { grant_type: 'client_credentials', ...params },
    { authorization: basicAuth(auth.id, auth.secret) },
  );

/** A refusal with the RFC's code that stores nothing. */
const expectRefused = (send: Parameters<typeof expectTokenRefusal>[1], status: number, error: string) =>
  expectTokenRefusal(idp, send, status, error);

describe('a machine client with openid-client', () => {
  it('gets an access token for its API, with its allowed scopes, that the API verifies on its own', async () => {
    await register();
    const config = await client.discovery(new URL(idp.url), robot.id, robot.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().grant_types_supported).toContain('client_credentials');
    const tokens = await client.clientCredentialsGrant(config, { resource: INVENTORY });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('inventory:read');
    expect(tokens.expires_in).toBeGreaterThan(0);
    // RFC 6749 §4.4.3: no refresh token; nobody signed in, so no ID token.
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();

    const keySet = createRemoteKeySet(`${idp.url}/jwks`, { now: () => idp.clock.now() });
    const { claims, header } = await verifyAccessToken(tokens.access_token, {
      issuer: idp.url,
      audience: INVENTORY,
      requiredScopes: ['inventory:read'],
      keySet,
      now: () => idp.clock.now(),
    });
    expect(header.typ).toBe('at+jwt');
    // RFC 9068 §2.2: with no resource owner, `sub` is the client.
    expect(claims).toMatchObject({ iss: idp.url, sub: robot.id, client_id: robot.id, aud: INVENTORY });
    expect(claims).not.toHaveProperty('sid');
    expect(claims).not.toHaveProperty('auth_time');
    await expect(
      verifyAccessToken(tokens.access_token, {
        issuer: idp.url,
        audience: BILLING,
        keySet,
        now: () => idp.clock.now(),
      }),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' });
  });
});

describe('the token for a machine client', () => {
  it("defaults to the client's only API and every scope of it the client may have", async () => {
    await register();
    const { status, json } = await grant(robot);
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: 'Bearer', scope: 'inventory:read' });
    expect(Object.keys(json).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(decodeJwt(json.access_token as string)).toMatchObject({ aud: INVENTORY, scope: 'inventory:read' });
  });

  it('is for the API named, narrowed to the scopes asked for', async () => {
    await register();
    const all = await grant(twoApis, { resource: INVENTORY });
    expect(all.json.scope).toBe('inventory:read inventory:write');
    const narrow = await grant(twoApis, { resource: INVENTORY, scope: 'inventory:write' });
    expect(narrow.json.scope).toBe('inventory:write');
    expect(decodeJwt(narrow.json.access_token as string)).toMatchObject({ aud: INVENTORY, scope: 'inventory:write' });
    const billing = await grant(twoApis, { resource: BILLING });
    expect(decodeJwt(billing.json.access_token as string)).toMatchObject({ aud: BILLING, scope: 'billing:read' });
  });

  it('is introspected by its client; once revoked, refused by introspection and by a status-list check', async () => {
    await register();
    const { json } = await grant(robot);
    const token = json.access_token as string;
    const introspect = async () => {
      const res = await fetch(new URL('/introspect', idp.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(robot.id, robot.secret),
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    expect(await introspect()).toMatchObject({
      active: true,
      sub: robot.id,
      client_id: robot.id,
      aud: INVENTORY,
      scope: 'inventory:read',
    });

    const now = () => idp.clock.now();
    const keySet = createRemoteKeySet(`${idp.url}/jwks`, { now });
    const statusLists = createStatusListChecker({ issuer: idp.url, keySet, now });
    const api = new Hono<AccessTokenEnv>();
    api.use('/*', requireBearer({ issuer: idp.url, audience: INVENTORY, keySet, statusLists, now }));
    api.get('/stock', (c) => c.json({ caller: c.get('accessToken').sub }));
    const call = () => api.request('/stock', { headers: { authorization: `Bearer ${token}` } });
    const served = await call();
    expect(await served.json()).toEqual({ caller: robot.id });

    const revoked = await fetch(new URL('/revoke', idp.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(robot.id, robot.secret),
      },
      body: new URLSearchParams({ token }),
    });
    expect(revoked.status).toBe(200);
    expect(await introspect()).toEqual({ active: false });
    // A verifier that has not read the list since the revocation refuses at once.
    const fresh = createStatusListChecker({ issuer: idp.url, keySet, now });
    const refused = await new Hono<AccessTokenEnv>()
      .use('/*', requireBearer({ issuer: idp.url, audience: INVENTORY, keySet, statusLists: fresh, now }))
      .get('/stock', (c) => c.json({}))
      .request('/stock', { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
  });
});

describe('refusals at the token endpoint, each storing nothing', () => {
  it('unauthorized_client for a client not registered for the grant (RFC 6749 §5.2)', async () => {
    await register();
    await expectRefused(() => grant(fx.confidential, { resource: fx.api.id }), 400, 'unauthorized_client');
  });

  it('unauthorized_client for a public client: the grant is for confidential ones (RFC 6749 §4.4)', async () => {
    await register();
    await expectRefused(
      () => postToken(idp.url, { grant_type: 'client_credentials', client_id: fx.publicClient.id }),
      400,
      'unauthorized_client',
    );
  });

  it('invalid_client (401) for a wrong secret', async () => {
    await register();
    await expectRefused(() => grant({ id: robot.id, secret: 'not-the-secret' }), 401, 'invalid_client');
  });

  it('invalid_scope for an API scope the client was not allowed, an unknown one, or an OpenID one', async () => {
    await register();
    await expectRefused(() => grant(robot, { scope: 'inventory:write' }), 400, 'invalid_scope');
    await expectRefused(() => grant(robot, { scope: 'inventory:read inventory:delete' }), 400, 'invalid_scope');
    await expectRefused(() => grant(robot, { scope: 'openid' }), 400, 'invalid_scope');
    // A scope of another API the client may use is not a scope of this one.
    await expectRefused(() => grant(twoApis, { resource: INVENTORY, scope: 'billing:read' }), 400, 'invalid_scope');
  });

  it('invalid_target for an API not allowed, unknown, malformed, or unnamed among several (RFC 8707 §2)', async () => {
    await register();
    await expectRefused(() => grant(robot, { resource: BILLING }), 400, 'invalid_target');
    await expectRefused(() => grant(robot, { resource: 'https://nowhere.example.test' }), 400, 'invalid_target');
    await expectRefused(() => grant(robot, { resource: 'not a uri' }), 400, 'invalid_target');
    await expectRefused(() => grant(twoApis), 400, 'invalid_target');
  });

  it('invalid_target for a client allowed no API at all', async () => {
    await register();
    const lonely = { id: 'robot-no-api', secret: 'robot-no-api-secret-robot-no-api-secret' };
    await registerWebClient(
      idp,
      fx,
      { ...lonely, name: 'No API' },
      { resources: [], grantTypes: ['client_credentials'] },
    );
    await expectRefused(() => grant(lonely), 400, 'invalid_target');
  });
});

describe('registering machine clients and API scopes', () => {
  const deps = () => registration(idp);
  const machine = {
    name: 'M',
    party: 'first' as const,
    redirectUris: [] as string[],
    grantTypes: ['client_credentials'] as string[],
  };

  it('refuses the grant to a public client, and a client with neither redirect URI nor machine grant', async () => {
    await register();
    await expect(registerClient(deps(), { ...machine, type: 'public', resources: [INVENTORY] })).rejects.toThrow(
      RegistrationError,
    );
    await expect(
      registerClient(deps(), { ...machine, type: 'confidential', grantTypes: ['refresh_token'] }),
    ).rejects.toThrow('at least one redirect URI is required');
  });

  it("refuses a scope that is neither OpenID's nor one of the client's resources'", async () => {
    await register();
    await expect(
      registerClient(deps(), { ...machine, type: 'confidential', resources: [INVENTORY], scopes: ['billing:read'] }),
    ).rejects.toThrow('scope billing:read is neither an OpenID scope');
  });

  it('refuses an API scope that is not a scope token (RFC 6749 §3.3) or is an OpenID scope', async () => {
    await expect(
      registerResource(deps(), { id: 'https://a.example.test', name: 'A', scopes: ['a b'] }),
    ).rejects.toThrow('is not a valid scope token');
    await expect(
      registerResource(deps(), { id: 'https://a.example.test', name: 'A', scopes: ['a"b'] }),
    ).rejects.toThrow('is not a valid scope token');
    await expect(
      registerResource(deps(), { id: 'https://a.example.test', name: 'A', scopes: ['openid'] }),
    ).rejects.toThrow('is an OpenID scope');
    expect(await deps().store.resources.findById('https://a.example.test')).toBeUndefined();
  });

  it('gives a machine client no authorization code grant: it has nowhere to send a person back to', async () => {
    await register();
    const stored = await deps().store.clients.findById(robot.id);
    expect(stored?.grantTypes).toEqual(['client_credentials']);
    expect(stored?.allowedScopes).toEqual(['inventory:read']);
  });
});
