/**
 * private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9): openid-client,
 * unmodified, authenticates with a key registered inline and with one published at a jwks_uri
 * (a real HTTP server on a loopback port, reached through a `*.localhost` name) at the token,
 * introspection and revocation endpoints; every forged, stale, replayed or misdirected assertion
 * is refused with invalid_client and changes no stored data, and the code it tried to redeem is
 * still redeemable by the legitimate request.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../src/protocol/registration.js';
import { browserFlow, signInAndRedeem } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { countRows, registration, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

interface ClientKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function clientKey(kid: string): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** The client's own JWKS server: what it serves, how often it was asked. */
class JwksServer {
  keys: JWK[] = [];
  requests = 0;
  readonly server: Server = createServer((_req, res) => {
    this.requests++;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=600' });
    res.end(JSON.stringify({ keys: this.keys }));
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const INLINE = 'pk-inline';
const BY_URI = 'pk-uri';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let inlineKey: ClientKey;
let uriKey: ClientKey;
/** Another key under the inline key's kid: what an attacker without the client's key signs with. */
let strangerKey: ClientKey;
const jwksServer = new JwksServer();
let jar: CookieJarClient;

beforeAll(async () => {
  [inlineKey, uriKey, strangerKey] = await Promise.all([clientKey('k1'), clientKey('u1'), clientKey('k1')]);
  jwksServer.keys = [uriKey.publicJwk];
  await jwksServer.start();
  const base = {
    type: 'confidential' as const,
    party: 'first' as const,
    redirectUris: [fx.redirectUri],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    resources: [fx.api.id],
    grantTypes: ['refresh_token'],
  };
  await registerClient(registration(idp), {
    ...base,
    id: INLINE,
    name: 'Inline',
    jwks: { keys: [inlineKey.publicJwk] },
  });
  // *.localhost is not in DNS: the issuer's fetch resolves it to loopback itself (RFC 6761 §6.3).
  await registerClient(registration(idp), {
    ...base,
    id: BY_URI,
    name: 'By URI',
    jwksUri: `http://keys.localhost:${jwksServer.port}/jwks`,
  });
  ({ jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
});

afterAll(() => jwksServer.stop());

/** The claims and header of a valid assertion for `clientId`, with `claims`/`header` on top (undefined removes). */
function assertion(
  key: ClientKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  clientId = INLINE,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: clientId, sub: clientId, aud: idp.url, jti: randomUUID(), iat: now, exp: now + 60, ...claims };
  const protectedHeader = { alg: 'ES256', kid: key.kid, ...header };
  return new SignJWT(dropUndefined(payload))
    .setProtectedHeader(dropUndefined(protectedHeader) as never)
    .sign(key.privateKey);
}

const dropUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A compact JWS with an unsigned or HMAC header, as jose will not make one with a private key. */
function unsignedOrHmac(header: Record<string, unknown>, payload: Record<string, unknown>, hmacKey?: Buffer): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  if (!hmacKey) return `${input}.`;
  return `${input}.${createHmac('sha256', hmacKey).update(input).digest('base64url')}`;
}

/** The assertion parameters of a form (RFC 7521 §4.2). */
const withAssertion = (value: string, clientId: string | undefined = INLINE) => ({
  ...(clientId === undefined ? {} : { client_id: clientId }),
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: value,
});

async function post(path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** A fresh code for `clientId` through alice's session, and its redemption form minus client authentication. */
async function freshCode(clientId = INLINE): Promise<Record<string, string>> {
  const { callback, verifier } = await browserFlow(
    idp.url,
    { clientId, redirectUri: fx.redirectUri, scope: 'openid offline_access' },
    null,
    jar,
  );
  return {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
    redirect_uri: fx.redirectUri,
  };
}

function discover(clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(idp.url), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/** The code flow, a refresh, introspection and revocation, all through openid-client. */
async function fullRun(config: client.Configuration, clientId: string) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fx.redirectUri,
    scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
  });
  const step = await jar.follow(url, { stopWhen: (u) => u.href.startsWith(fx.redirectUri) });
  const tokens = await client.authorizationCodeGrant(config, step.location!, { pkceCodeVerifier, expectedState });
  expect(tokens.claims()).toMatchObject({ iss: idp.url, sub: fx.alice.sub, aud: clientId });
  expect(tokens.refresh_token).toBeTruthy();

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  expect(refreshed.access_token).toBeTruthy();
  expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toMatchObject({
    active: true,
    client_id: clientId,
  });
  await client.tokenRevocation(config, refreshed.refresh_token!);
  expect(await client.tokenIntrospection(config, refreshed.refresh_token!)).toEqual({ active: false });
}

describe('discovery', () => {
  it('advertises private_key_jwt and exactly the assertion algorithms accepted, at every endpoint', async () => {
    const meta = (await (await fetch(new URL('/.well-known/openid-configuration', idp.url))).json()) as Record<
      string,
      string[]
    >;
    const algorithms = [
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
      'Ed25519',
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
    ];
    for (const endpoint of ['token', 'revocation', 'introspection']) {
      expect(meta[`${endpoint}_endpoint_auth_methods_supported`]).toContain('private_key_jwt');
      expect(meta[`${endpoint}_endpoint_auth_signing_alg_values_supported`]).toEqual(algorithms);
    }
  });
});

describe('openid-client as a private_key_jwt client', () => {
  it('completes the code flow, a refresh, introspection and revocation with an inline key (no kid sent)', async () => {
    // One registered key: the assertion needs no kid, and openid-client sends none for a bare key.
    await fullRun(await discover(INLINE, client.PrivateKeyJwt(inlineKey.privateKey)), INLINE);
  });

  it('does the same with a key at a jwks_uri, fetched once and then served from the cache', async () => {
    const before = jwksServer.requests;
    await fullRun(await discover(BY_URI, client.PrivateKeyJwt({ key: uriKey.privateKey, kid: uriKey.kid })), BY_URI);
    // Five authenticated requests, one fetch: max-age=600 keeps the set fresh.
    expect(jwksServer.requests - before).toBe(1);
  });
});

describe('a machine client with keys', () => {
  it('gets a client credentials token with openid-client authenticating by private_key_jwt', async () => {
    const key = await clientKey('m1');
    const machine = 'pk-machine';
    await registerClient(registration(idp), {
      id: machine,
      name: 'Machine',
      type: 'confidential',
      party: 'first',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      resources: [fx.api.id],
      jwks: { keys: [key.publicJwk] },
    });
    const config = await discover(machine, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
    const tokens = await client.clientCredentialsGrant(config, { resource: fx.api.id });
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({
      active: true,
      sub: machine,
      client_id: machine,
    });
  });
});

describe('a refused assertion is invalid_client and changes nothing', () => {
  type Attack = {
    name: string;
    form: (code: Record<string, string>) => Promise<Record<string, string>>;
    reason: RegExp;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const attacks: Attack[] = [
    {
      name: 'replayed (same jti)',
      form: async (code) => {
        const used = await assertion(inlineKey);
        expect((await post('/introspect', { token: 'x', ...withAssertion(used) })).status).toBe(200);
        return { ...code, ...withAssertion(used) };
      },
      reason: /jti was already used/,
    },
    {
      name: 'for the token endpoint URL as audience',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, { aud: `${idp.url}/token` })) }),
      reason: /aud/,
    },
    {
      name: 'for another audience as well',
      form: async (code) => ({
        ...code,
        ...withAssertion(await assertion(inlineKey, { aud: [idp.url, 'https://other.example.test'] })),
      }),
      reason: /aud/,
    },
    {
      name: 'signed by another key under the same kid',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(strangerKey)) }),
      reason: /signature/,
    },
    {
      name: 'with alg none',
      form: async (code) => ({
        ...code,
        ...withAssertion(
          unsignedOrHmac(
            { alg: 'none', kid: 'k1' },
            { iss: INLINE, sub: INLINE, aud: idp.url, jti: randomUUID(), exp: now() + 60 },
          ),
        ),
      }),
      reason: /alg none/,
    },
    {
      name: 'HS256 keyed with the public JWK',
      form: async (code) => ({
        ...code,
        ...withAssertion(
          unsignedOrHmac(
            { alg: 'HS256', kid: 'k1' },
            { iss: INLINE, sub: INLINE, aud: idp.url, jti: randomUUID(), exp: now() + 60 },
            Buffer.from(JSON.stringify(inlineKey.publicJwk)),
          ),
        ),
      }),
      reason: /alg HS256/,
    },
    {
      name: 'expired',
      form: async (code) => ({
        ...code,
        ...withAssertion(await assertion(inlineKey, { iat: now() - 300, exp: now() - 120 })),
      }),
      reason: /expired/,
    },
    {
      name: 'living too long (exp an hour ahead)',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, { exp: now() + 3600 })) }),
      reason: /exp is more than 300 s ahead/,
    },
    {
      name: 'not valid yet (nbf ahead)',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, { nbf: now() + 120 })) }),
      reason: /nbf/,
    },
    {
      name: 'with iss other than sub',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, { iss: 'someone-else' })) }),
      reason: /iss must equal sub/,
    },
    {
      name: 'with sub other than client_id',
      form: async (code) => ({
        ...code,
        ...withAssertion(await assertion(inlineKey, { iss: BY_URI, sub: BY_URI }), INLINE),
      }),
      reason: /sub must equal client_id/,
    },
    {
      name: 'without jti',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, { jti: undefined })) }),
      reason: /jti/,
    },
    {
      name: 'with an unknown kid',
      form: async (code) => ({ ...code, ...withAssertion(await assertion(inlineKey, {}, { kid: 'nope' })) }),
      reason: /no key of the client has kid nope/,
    },
    {
      name: 'of another client type',
      form: async (code) => ({
        ...code,
        ...withAssertion(await assertion(inlineKey), INLINE),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      }),
      reason: /client_assertion_type/,
    },
    {
      name: 'that is not a JWT',
      form: async (code) => ({ ...code, ...withAssertion('not.a.jwt') }),
      reason: /not a JWT/,
    },
  ];

  it.each(attacks)('$name', async ({ form, reason }) => {
    const code = await freshCode();
    const attack = await form(code);
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    const res = await post('/token', attack);
    expect(res).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(res.json.error_description).toMatch(reason);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
    // The legitimate client still redeems the code.
    const ok = await post('/token', { ...code, ...withAssertion(await assertion(inlineKey)) });
    expect(ok.status).toBe(200);
    expect(ok.json.refresh_token).toBeTruthy();
  });

  it.each([
    ['client_secret_post', (code: Record<string, string>) => ({ ...code, client_id: INLINE, client_secret: 'guess' })],
    ['client_secret_basic', (code: Record<string, string>) => ({ ...code })],
    ['none (client_id alone)', (code: Record<string, string>) => ({ ...code, client_id: INLINE })],
  ])('refuses a private_key_jwt client authenticating with %s', async (method, form) => {
    const code = await freshCode();
    const headers: Record<string, string> =
      method === 'client_secret_basic'
        ? { authorization: `Basic ${Buffer.from(`${INLINE}:guess`).toString('base64')}` }
        : {};
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    expect(await post('/token', form(code), headers)).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
    expect((await post('/token', { ...code, ...withAssertion(await assertion(inlineKey)) })).status).toBe(200);
  });

  it('refuses an assertion for a client that authenticates with a secret', async () => {
    const web = fx.confidential.id;
    const digests = await tableDigests(idp.issuer.ctx.store.database);
    const res = await post('/introspect', {
      token: 'x',
      ...withAssertion(await assertion(inlineKey, {}, {}, web), web),
    });
    expect(res).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(res.json.error_description).toMatch(/private_key_jwt/);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(digests);
  });

  it('refuses a replay at the revocation endpoint too, leaving the token active', async () => {
    const code = await freshCode();
    const tokens = await post('/token', { ...code, ...withAssertion(await assertion(inlineKey)) });
    const refreshToken = tokens.json.refresh_token as string;
    const used = await assertion(inlineKey);
    expect((await post('/introspect', { token: refreshToken, ...withAssertion(used) })).json.active).toBe(true);
    const res = await post('/revoke', { token: refreshToken, ...withAssertion(used) });
    expect(res).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    const check = await post('/introspect', { token: refreshToken, ...withAssertion(await assertion(inlineKey)) });
    expect(check.json.active).toBe(true);
  });

  it('lets exactly one of many concurrent requests use the same assertion', async () => {
    const shared = await assertion(inlineKey);
    const before = await countRows(idp, 'client_assertions');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => post('/introspect', { token: 'x', ...withAssertion(shared) })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(11).fill(401)]);
    expect(results.filter((r) => r.status === 401).every((r) => r.json.error === 'invalid_client')).toBe(true);
    expect(await countRows(idp, 'client_assertions')).toBe(before + 1);
  });
});

describe('a jwks_uri', () => {
  it('is refetched for an unknown kid, but not more than once per cooldown', async () => {
    const rotated = await clientKey('u2');
    jwksServer.keys = [uriKey.publicJwk, rotated.publicJwk];
    const before = jwksServer.requests;
    // The set fetched earlier is still fresh, and within the cooldown: no refetch, so no u2 yet.
    const early = await post('/introspect', {
      token: 'x',
      ...withAssertion(await assertion(rotated, {}, {}, BY_URI), BY_URI),
    });
    expect(early).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(jwksServer.requests).toBe(before);
    idp.clock.advance(31);
    try {
      const later = await post('/introspect', {
        token: 'x',
        ...withAssertion(await assertion(rotated, { iat: undefined }, {}, BY_URI), BY_URI),
      });
      expect(later.status).toBe(200);
      expect(jwksServer.requests).toBe(before + 1);
    } finally {
      idp.clock.advance(-31);
    }
  });

  it('that cannot be reached refuses the client with invalid_client, not a 500', async () => {
    const gone = new JwksServer();
    await gone.start();
    await gone.stop(); // a port that was just free, now refusing connections
    await registerClient(registration(idp), {
      id: 'pk-down',
      name: 'Down',
      type: 'confidential',
      party: 'first',
      redirectUris: [fx.redirectUri],
      jwksUri: `http://127.0.0.1:${gone.port}/jwks`,
    });
    const key = await clientKey('d1');
    const res = await post('/introspect', {
      token: 'x',
      ...withAssertion(await assertion(key, {}, {}, 'pk-down'), 'pk-down'),
    });
    expect(res).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    expect(res.json.error_description).toMatch(/jwks_uri could not be fetched/);
  });
});
