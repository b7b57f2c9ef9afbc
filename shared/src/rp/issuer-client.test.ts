import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../test/support/clock.js';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import { ISSUER, createTestIssuer, type TestIssuer } from '../../test/support/issuer.js';
import type { FetchLike } from '../http/fetch-like.js';
import type { RemoteKeySet } from '../jwks/remote-key-set.js';
import { ISSUER_PATHS } from '../protocol.js';
import { IssuerUnavailableError } from './errors.js';
import { createIssuerClient } from './issuer-client.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const metadataOf = (overrides: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
  ...overrides,
});

/** An issuer whose discovery answer a test changes as it goes; counts the requests to each path. */
function fakeIssuer(state: { metadata: unknown; discoveryStatus: number }) {
  const requests: string[] = [];
  const fetch: FetchLike = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    requests.push(new URL(url).pathname);
    if (url === ISSUER + ISSUER_PATHS.discovery) {
      if (state.discoveryStatus !== 200) return new Response('down', { status: state.discoveryStatus });
      return Response.json(state.metadata);
    }
    if (url === `${ISSUER}/jwks`) return Response.json(issuer.jwks, { headers: { 'cache-control': 'max-age=60' } });
    return new Response(null, { status: 404 });
  };
  return { fetch, requests, discoveries: () => requests.filter((p) => p === ISSUER_PATHS.discovery).length };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('createIssuerClient', () => {
  it('fetches discovery once and keeps it', async () => {
    const fake = fakeIssuer({ metadata: metadataOf(), discoveryStatus: 200 });
    const client = createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() });
    expect((await client.metadata()).token_endpoint).toBe(`${ISSUER}/token`);
    await client.metadata();
    await client.keySet.getKey(issuer.es256.kid);
    expect(fake.discoveries()).toBe(1);
  });

  it('refuses metadata that names another issuer (OIDC Discovery §4.3)', async () => {
    const fake = fakeIssuer({ metadata: metadataOf({ issuer: `${ISSUER}/other` }), discoveryStatus: 200 });
    const error = await rejection(
      createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() }).metadata(),
    );
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect((error as Error).message).toBe('the issuer metadata names another issuer');
  });

  it('refuses metadata without a usable jwks_uri', async () => {
    const fake = fakeIssuer({ metadata: metadataOf({ jwks_uri: 'javascript:alert(1)' }), discoveryStatus: 200 });
    const error = await rejection(
      createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() }).metadata(),
    );
    expect((error as Error).message).toBe('the issuer metadata has no usable jwks_uri');
  });

  it('refuses metadata with an unusable end_session_endpoint', async () => {
    const bad = fakeIssuer({ metadata: metadataOf({ end_session_endpoint: 'not a url' }), discoveryStatus: 200 });
    const error = await rejection(
      createIssuerClient({ issuer: ISSUER, fetch: bad.fetch, now: createTestClock() }).metadata(),
    );
    expect((error as Error).message).toBe('the issuer metadata has an unusable end_session_endpoint');
  });

  it('reports an unreachable issuer as IssuerUnavailableError with the cause', async () => {
    const fake = fakeIssuer({ metadata: metadataOf(), discoveryStatus: 503 });
    const error = await rejection(
      createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() }).metadata(),
    );
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect((error as Error).message).toBe('the issuer metadata could not be fetched');
    expect(((error as Error).cause as Error).message).toBe('HTTP 503');
  });

  it('waits 5 s after a failed discovery before asking again', async () => {
    const state = { metadata: metadataOf(), discoveryStatus: 503 };
    const fake = fakeIssuer(state);
    const clock = createTestClock();
    const client = createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: clock });
    await rejection(client.metadata());
    state.discoveryStatus = 200;
    clock.advance(4.9);
    const early = await rejection(client.metadata());
    expect((early as Error).message).toBe('the issuer metadata could not be fetched recently; retrying shortly');
    expect(fake.discoveries()).toBe(1);
    clock.advance(0.1);
    expect((await client.metadata()).issuer).toBe(ISSUER);
    expect(fake.discoveries()).toBe(2);
  });

  it('answers a key request without discovery with ERR_JWKS_UNAVAILABLE, not a bad-token code', async () => {
    const fake = fakeIssuer({ metadata: metadataOf(), discoveryStatus: 503 });
    const client = createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() });
    const error = await expectRefusal(client.keySet.getKey(issuer.es256.kid), 'ERR_JWKS_UNAVAILABLE');
    expect(error.cause).toBeInstanceOf(IssuerUnavailableError);
  });

  it('wraps the key set created from jwks_uri once, with wrapKeySet', async () => {
    const fake = fakeIssuer({ metadata: metadataOf(), discoveryStatus: 200 });
    const wrapped: RemoteKeySet[] = [];
    const client = createIssuerClient({
      issuer: ISSUER,
      fetch: fake.fetch,
      now: createTestClock(),
      wrapKeySet: (keySet) => {
        wrapped.push(keySet);
        return keySet;
      },
    });
    const key = await client.keySet.getKey(issuer.es256.kid);
    await client.keySet.getKey(issuer.ed25519.kid);
    expect(key.alg).toBe('ES256');
    expect(wrapped).toHaveLength(1);
  });

  it('has keys in hand only once discovery and the key set have them, without asking the issuer itself', async () => {
    const fake = fakeIssuer({ metadata: metadataOf(), discoveryStatus: 200 });
    const client = createIssuerClient({ issuer: ISSUER, fetch: fake.fetch, now: createTestClock() });
    const { kid } = issuer.es256;
    expect(client.keySet.keyInHand?.(kid)).toBeUndefined();
    expect(fake.requests).toEqual([]);
    const key = await client.keySet.getKey(kid);
    expect(client.keySet.keyInHand?.(kid)).toBe(key);
    expect(fake.requests).toHaveLength(2); // discovery and the JWKS, once each
  });
});
