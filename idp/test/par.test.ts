/**
 * Pushed authorization requests (RFC 9126): openid-client, unmodified, pushes its request and
 * completes the code flow through sign-in and consent; every misuse of /par or of a request_uri is
 * refused with the RFC's error code and changes no stored data; a request_uri is used once even
 * when many requests race for it.
 */
import { describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { createRemoteKeySet, verifyAccessToken } from '@tessera/shared';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { digest } from '../src/crypto/digest.js';
import { registerClient } from '../src/protocol/registration.js';
import { REQUEST_URI_PREFIX } from '../src/protocol/pushed-authorization-request.js';
import { tableDigests } from './support/db-digest.js';
import { PASSWORD, countRows, registerPerson, registration, sql, storedJson, useIssuer } from './support/fixture.js';
import { authorizeQuery, basicAuth, getAuthorize, locationOf, submitSignIn } from './support/browser.js';

const { idp, fx } = useIssuer();

const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

/** POSTs a form to /par: status, JSON and headers. */
async function push(
  body: URLSearchParams | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(new URL('/par', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body instanceof URLSearchParams ? body : new URLSearchParams(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** The usual authorization request of the confidential client, pushed with HTTP Basic. */
async function pushConfidential(overrides: Record<string, string | null> = {}) {
  const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }, overrides);
  return push(q, { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) });
}

/** A request_uri pushed by the confidential client. */
async function pushedRequestUri(overrides: Record<string, string | null> = {}): Promise<string> {
  const res = await pushConfidential(overrides);
  expect(res.status).toBe(201);
  return res.json.request_uri as string;
}

const useRequestUri = (requestUri: string, clientId = fx.confidential.id, jar?: CookieJarClient) =>
  getAuthorize(idp.url, new URLSearchParams({ client_id: clientId, request_uri: requestUri }), jar);

/** The issuer's own error page (never a redirect: RFC 6749 §4.1.2.1), naming `error`. */
async function expectErrorPage(res: Response, error: string): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await res.text()).toContain(`<code>${error}</code>`);
}

/** Everything a refusal must leave as it was: the durable tables, and the pushed requests. */
async function storedData(): Promise<unknown> {
  const pushed = await sql(
    idp,
    'select digest, client_id, expires_at from pushed_authorization_requests order by digest',
  );
  return {
    durable: await tableDigests(idp.issuer.ctx.store.database),
    pushed,
    interactions: await countRows(idp, 'interactions'),
  };
}

/** Runs `refused`, which must change no stored data. */
async function changesNothing(refused: () => Promise<void>): Promise<void> {
  const before = await storedData();
  await refused();
  expect(await storedData()).toEqual(before);
}

function discover(clientId: string, secret: string | undefined, auth: client.ClientAuth) {
  return client.discovery(new URL(idp.url), clientId, secret, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/** Consent for the third-party client, if its page is where the browser is. */
async function allowIfAsked(jar: CookieJarClient, location: URL): Promise<URL> {
  if (location.pathname !== '/consent') return location;
  const html = await (await jar.fetch(location)).text();
  const res = await jar.fetch(new URL('/consent', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.url).origin },
    body: new URLSearchParams({
      interaction: formValue(html, 'interaction')!,
      csrf_token: formValue(html, 'csrf_token')!,
      decision: 'allow',
    }),
  });
  expect(res.status).toBe(303);
  return locationOf(res, idp.url)!;
}

/**
 * openid-client pushes the request (buildAuthorizationUrlWithPAR), the browser signs in as
 * `email` (and allows, for a third-party client), and openid-client redeems the code with the
 * usual checks (state, PKCE, nonce, iss, the ID token's signature): the tokens and the checks.
 */
async function flowWithPar(config: client.Configuration, email = 'alice@example.com') {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: fx.redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    resource: fx.api.id,
  });
  // RFC 9126 §4: the browser carries only client_id and request_uri.
  expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  expect(url.searchParams.get('request_uri')).toMatch(REQUEST_URI);
  const jar = createCookieJarClient();
  const signIn = locationOf(await jar.fetch(url), idp.url)!;
  expect(signIn.pathname).toBe('/sign-in');
  const signedIn = await submitSignIn(jar, idp.url, signIn, email, PASSWORD);
  expect(signedIn.status).toBe(303);
  const callbackUrl = await allowIfAsked(jar, locationOf(signedIn, idp.url)!);
  expect(callbackUrl.href.startsWith(fx.redirectUri)).toBe(true);
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier,
    expectedState,
    expectedNonce,
  });
  return { tokens, expectedNonce };
}

async function expectVerifiedTokens(
  flow: Awaited<ReturnType<typeof flowWithPar>>,
  clientId: string,
  sub: string,
): Promise<void> {
  const { tokens, expectedNonce } = flow;
  // The ID token: openid-client has checked its signature against the JWKS, iss, aud, nonce, exp.
  expect(tokens.claims()).toMatchObject({ iss: idp.url, sub, aud: clientId, nonce: expectedNonce });
  // The access token, by the kit a resource server uses: signature, typ, iss, aud, exp.
  const { claims } = await verifyAccessToken(tokens.access_token, {
    issuer: idp.url,
    audience: fx.api.id,
    keySet: createRemoteKeySet(`${idp.url}/jwks`),
  });
  expect(claims).toMatchObject({ sub, client_id: clientId, scope: 'openid profile email' });
}

describe('openid-client completes the code flow with a pushed request', () => {
  it('finds the endpoint in discovery, which does not require pushing of every client', async () => {
    const config = await discover(fx.publicClient.id, undefined, client.None());
    const meta = config.serverMetadata();
    expect(meta.pushed_authorization_request_endpoint).toBe(`${idp.url}/par`);
    expect(meta.require_pushed_authorization_requests).toBe(false);
    // RFC 9126 §5: a request_uri from /par is usable whatever this says (it is about RFC 9101's).
    expect(meta.request_uri_parameter_supported).toBe(false);
  });

  it.each([
    { method: 'client_secret_basic', authenticate: client.ClientSecretBasic },
    { method: 'client_secret_post', authenticate: client.ClientSecretPost },
  ])('for a confidential client authenticating with $method', async ({ authenticate }) => {
    const { id, secret } = fx.confidential;
    const flow = await flowWithPar(await discover(id, secret, authenticate(secret)));
    await expectVerifiedTokens(flow, id, fx.alice.sub);
  });

  it('for a public client authenticating with none', async () => {
    const flow = await flowWithPar(await discover(fx.publicClient.id, undefined, client.None()));
    await expectVerifiedTokens(flow, fx.publicClient.id, fx.alice.sub);
  });

  it('for a third-party client, the pushed request carried through sign-in and consent', async () => {
    const person = await registerPerson(idp, 'par-consent@example.com');
    const { id, secret } = fx.thirdParty;
    const flow = await flowWithPar(await discover(id, secret, client.ClientSecretBasic(secret)), person.email);
    await expectVerifiedTokens(flow, id, person.sub);
  });

  it('for a client registered to require pushed requests', async () => {
    const secret = 'par-only-secret-par-only-secret-par-only-0123';
    await registerClient(registration(idp), {
      id: 'par-only-flow',
      name: 'PAR only',
      type: 'confidential',
      party: 'first',
      redirectUris: [fx.redirectUri],
      resources: [fx.api.id],
      secret,
      requirePushedAuthorizationRequests: true,
    });
    const flow = await flowWithPar(await discover('par-only-flow', secret, client.ClientSecretBasic(secret)));
    await expectVerifiedTokens(flow, 'par-only-flow', fx.alice.sub);
  });
});

describe('the /par endpoint', () => {
  it('answers 201 with a single-use request_uri of 256 random bits and its lifetime, never cached', async () => {
    const res = await pushConfidential();
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({ request_uri: expect.stringMatching(REQUEST_URI), expires_in: 60 });
    const reference = (res.json.request_uri as string).slice(REQUEST_URI_PREFIX.length);
    expect(Buffer.from(reference, 'base64url')).toHaveLength(32);
    // Only the reference's digest is stored, with the parameters: no client credentials among them.
    const rows = await sql(idp, 'select * from pushed_authorization_requests where digest = ?', digest(reference));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(reference);
    expect(rows[0]).toMatchObject({ client_id: fx.confidential.id });
    expect(Number(rows[0]!.expires_at) - Number(rows[0]!.created_at)).toBe(60_000);
  });

  it('keeps the parameters but never the client_secret of client_secret_post', async () => {
    const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
    q.set('client_secret', fx.confidential.secret);
    const res = await push(q);
    expect(res.status).toBe(201);
    const reference = (res.json.request_uri as string).slice(REQUEST_URI_PREFIX.length);
    const [row] = await sql(
      idp,
      'select params from pushed_authorization_requests where digest = ?',
      digest(reference),
    );
    const params = storedJson(row!.params) as Record<string, string>;
    expect(params).not.toHaveProperty('client_secret');
    expect(params).toMatchObject({ client_id: fx.confidential.id, redirect_uri: fx.redirectUri, state: 'state-123' });
  });

  it('is open to browser apps of any origin, as the token endpoint is', async () => {
    const preflight = await fetch(new URL('/par', idp.url), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://spa.example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const q = authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
    const res = await push(q, { origin: 'https://spa.example.test' });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers any other method with 405 (RFC 9126 §2.3)', async () => {
    const res = await fetch(new URL('/par', idp.url));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('refusals at /par: the JSON error of RFC 9126 §2.3, nothing stored', () => {
  it.each<[string, Record<string, string>, string]>([
    ['no client authentication', {}, 'web-app'],
    ['a wrong secret', { authorization: basicAuth('web-app', 'wrong') }, 'web-app'],
    ['an unknown client', { authorization: basicAuth('no-such-client', 'secret') }, 'no-such-client'],
  ])('refuses %s with 401 invalid_client', async (_, headers, clientId) => {
    await changesNothing(async () => {
      const res = await push(authorizeQuery({ clientId, redirectUri: fx.redirectUri }), headers);
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_client');
      // RFC 6749 §5.2: the 401 names the scheme the client may use.
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="tessera"/);
    });
  });

  it('refuses a public client that sends a secret with 401 invalid_client', async () => {
    await changesNothing(async () => {
      const q = authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
      q.set('client_secret', 'anything');
      const res = await push(q);
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_client');
    });
  });

  it.each<[string, Record<string, string | null>, string]>([
    ['a request_uri inside the pushed request (§2.1)', { request_uri: `${REQUEST_URI_PREFIX}x` }, 'invalid_request'],
    ['no client_id (§2.1: required here too)', { client_id: null }, 'invalid_request'],
    ['another client’s client_id', { client_id: 'spa' }, 'invalid_request'],
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/cb' }, 'invalid_request'],
    ['no redirect_uri', { redirect_uri: null }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no response_type', { response_type: null }, 'invalid_request'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
    ['no scope', { scope: null }, 'invalid_scope'],
    ['an unknown scope', { scope: 'openid admin' }, 'invalid_scope'],
    ['a scope not allowed to the client', { scope: 'openid offline_access' }, 'invalid_scope'],
    ['no code_challenge', { code_challenge: null }, 'invalid_request'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['a code_challenge that is no SHA-256', { code_challenge: 'short' }, 'invalid_request'],
    ['an unknown prompt', { prompt: 'dance' }, 'invalid_request'],
    ['prompt=none with login', { prompt: 'none login' }, 'invalid_request'],
    ['a negative max_age', { max_age: '-1' }, 'invalid_request'],
    ['a resource the client may not have', { resource: 'https://elsewhere.example' }, 'invalid_target'],
    ['a resource with a fragment', { resource: 'https://api.example.test#x' }, 'invalid_target'],
    ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
  ])('refuses %s with 400 %s', async (_, overrides, error) => {
    await changesNothing(async () => {
      const res = await pushConfidential(overrides);
      expect({ status: res.status, error: res.json.error }).toEqual({ status: 400, error });
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('location')).toBeNull();
    });
  });

  it('refuses a repeated parameter and a body that is not a form with 400 invalid_request', async () => {
    await changesNothing(async () => {
      const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
      q.append('scope', 'openid');
      const repeated = await push(q, { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) });
      expect({ status: repeated.status, error: repeated.json.error }).toEqual({
        status: 400,
        error: 'invalid_request',
      });
      const json = await push(q, { 'content-type': 'application/json' });
      expect({ status: json.status, error: json.json.error }).toEqual({ status: 400, error: 'invalid_request' });
    });
  });
});

describe('a request_uri at the authorization endpoint', () => {
  it('uses the pushed parameters and ignores every other one but client_id (RFC 9126 §4)', async () => {
    const requestUri = await pushedRequestUri({ state: 'pushed-state' });
    const q = new URLSearchParams({
      client_id: fx.confidential.id,
      request_uri: requestUri,
      redirect_uri: 'https://app.example.test/callback',
      state: 'query-state',
      response_type: 'token',
      scope: 'nonsense',
    });
    const jar = createCookieJarClient();
    const signIn = locationOf(await getAuthorize(idp.url, q, jar), idp.url)!;
    expect(signIn.pathname).toBe('/sign-in');
    const done = await submitSignIn(jar, idp.url, signIn, 'alice@example.com', PASSWORD);
    const callback = locationOf(done, idp.url)!;
    expect(`${callback.origin}${callback.pathname}`).toBe(fx.redirectUri);
    expect(callback.searchParams.get('state')).toBe('pushed-state');
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('is used once: the second use is refused with invalid_request_uri on the issuer’s page', async () => {
    const requestUri = await pushedRequestUri();
    const first = await useRequestUri(requestUri);
    expect(first.status).toBe(302);
    expect(locationOf(first, idp.url)!.pathname).toBe('/sign-in');
    await changesNothing(async () => expectErrorPage(await useRequestUri(requestUri), 'invalid_request_uri'));
  });

  it('is bound to the client that pushed it: another client is refused, and does not use it up', async () => {
    const requestUri = await pushedRequestUri();
    await changesNothing(async () => {
      const res = await useRequestUri(requestUri, fx.publicClient.id);
      await expectErrorPage(res, 'invalid_request_uri');
    });
    expect((await useRequestUri(requestUri)).status).toBe(302);
  });

  it('expires: refused once its lifetime is over, even if never used', async () => {
    const requestUri = await pushedRequestUri();
    const ttl = idp.issuer.ctx.config.pushedAuthorizationRequestTtl;
    idp.clock.advance(ttl);
    try {
      await changesNothing(async () => {
        const res = await useRequestUri(requestUri);
        expect(res.status).toBe(400);
        const html = await res.text();
        expect(html).toContain('<code>invalid_request_uri</code>');
        expect(html).toContain('expired');
      });
    } finally {
      idp.clock.advance(-ttl);
    }
    // Within its lifetime it was still good (and not used up by the refusal).
    idp.clock.advance(ttl - 5);
    try {
      expect((await useRequestUri(requestUri)).status).toBe(302);
    } finally {
      idp.clock.advance(-(ttl - 5));
    }
  });

  it.each([
    ['an unknown request_uri', `${REQUEST_URI_PREFIX}${'A'.repeat(43)}`, 'invalid_request_uri'],
    ['an empty reference', `${REQUEST_URI_PREFIX}`, 'invalid_request_uri'],
    ['the pushed request’s digest itself', 'digest', 'invalid_request_uri'],
    [
      'a request object by reference (RFC 9101 §5.2)',
      'https://app.example.test/request.jwt',
      'request_uri_not_supported',
    ],
    ['a value that is no URI', 'not a uri', 'request_uri_not_supported'],
  ])('refuses %s on the issuer’s page', async (_, value, error) => {
    let requestUri = value;
    if (value === 'digest') {
      const pushed = await pushedRequestUri();
      requestUri = REQUEST_URI_PREFIX + digest(pushed.slice(REQUEST_URI_PREFIX.length));
    }
    await changesNothing(async () => expectErrorPage(await useRequestUri(requestUri), error));
  });

  it('refuses a request_uri without client_id, with an unknown one, or repeated, on the issuer’s page', async () => {
    const requestUri = await pushedRequestUri();
    await changesNothing(async () => {
      await expectErrorPage(
        await getAuthorize(idp.url, new URLSearchParams({ request_uri: requestUri })),
        'invalid_request',
      );
      await expectErrorPage(await useRequestUri(requestUri, 'no-such-client'), 'invalid_client');
      const twice = new URLSearchParams({ client_id: fx.confidential.id, request_uri: requestUri });
      twice.append('request_uri', requestUri);
      await expectErrorPage(await getAuthorize(idp.url, twice), 'invalid_request');
    });
    // None of them used it.
    expect((await useRequestUri(requestUri)).status).toBe(302);
  });

  it('is validated again at use: a redirect URI unregistered since the push is refused on the page', async () => {
    const secret = 'par-changed-secret-par-changed-secret-0123456';
    const base = {
      id: 'par-changed',
      name: 'PAR changed',
      type: 'confidential' as const,
      party: 'first' as const,
      redirectUris: [fx.redirectUri],
      secret,
    };
    const { client: registered } = await registerClient(registration(idp), base);
    const res = await push(authorizeQuery({ clientId: 'par-changed', redirectUri: fx.redirectUri }), {
      authorization: basicAuth('par-changed', secret),
    });
    expect(res.status).toBe(201);
    await idp.issuer.ctx.store.clients.update({ ...registered, redirectUris: ['https://app.example.test/callback'] });
    await expectErrorPage(await useRequestUri(res.json.request_uri as string, 'par-changed'), 'invalid_request');
  });

  it('goes on through a POST to /authorize as through a GET', async () => {
    const requestUri = await pushedRequestUri();
    const res = await fetch(new URL('/authorize', idp.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: fx.confidential.id, request_uri: requestUri }),
    });
    expect(res.status).toBe(302);
    expect(locationOf(res, idp.url)!.pathname).toBe('/sign-in');
  });

  it('used by 20 requests at once, goes on for exactly one', async () => {
    const requestUri = await pushedRequestUri();
    const interactions = await countRows(idp, 'interactions');
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await useRequestUri(requestUri);
        return { status: res.status, body: await res.text() };
      }),
    );
    expect(results.filter((r) => r.status === 302)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 302);
    expect(refused).toHaveLength(19);
    for (const r of refused)
      expect(r).toMatchObject({ status: 400, body: expect.stringContaining('invalid_request_uri') });
    expect(await countRows(idp, 'interactions')).toBe(interactions + 1);
  });
});

describe('a client registered to require pushed requests (RFC 9126 §6)', () => {
  const id = 'par-required';
  const secret = 'par-required-secret-par-required-secret-0123';

  it('is refused a plain authorization request with invalid_request, at its redirect URI', async () => {
    await registerClient(registration(idp), {
      id,
      name: 'PAR required',
      type: 'confidential',
      party: 'first',
      redirectUris: [fx.redirectUri],
      secret,
      requirePushedAuthorizationRequests: true,
    });
    const { challenge } = pkcePair();
    await changesNothing(async () => {
      const res = await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: id, redirectUri: fx.redirectUri }, { code_challenge: challenge }),
      );
      expect(res.status).toBe(302);
      const location = locationOf(res, idp.url)!;
      expect(`${location.origin}${location.pathname}`).toBe(fx.redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('state-123');
      expect(location.searchParams.get('iss')).toBe(idp.url);
      expect(location.searchParams.has('code')).toBe(false);
    });
  });

  it('is refused on the issuer’s page when the redirect URI is not its own, as any client', async () => {
    await changesNothing(async () =>
      expectErrorPage(
        await getAuthorize(idp.url, authorizeQuery({ clientId: id, redirectUri: 'https://evil.example/cb' }, {})),
        'invalid_request',
      ),
    );
  });

  it('goes on with a pushed request', async () => {
    const res = await push(authorizeQuery({ clientId: id, redirectUri: fx.redirectUri }), {
      authorization: basicAuth(id, secret),
    });
    expect(res.status).toBe(201);
    const used = await useRequestUri(res.json.request_uri as string, id);
    expect(locationOf(used, idp.url)!.pathname).toBe('/sign-in');
  });

  it('is stored as registered', async () => {
    expect((await idp.issuer.ctx.store.clients.findById(id))?.requirePushedAuthorizationRequests).toBe(true);
    expect((await idp.issuer.ctx.store.clients.findById(fx.confidential.id))?.requirePushedAuthorizationRequests).toBe(
      false,
    );
  });
});
