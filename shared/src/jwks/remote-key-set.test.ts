import type http from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../test/support/clock.js';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import {
  API,
  ISSUER,
  accessTokenClaims,
  countingFetch,
  createTestIssuer,
  sign,
  startServer,
  type TestIssuer,
  type TestServer,
} from '../../test/support/issuer.js';
import { verifyAccessToken } from '../verify/verify-access-token.js';
import { createRemoteKeySet } from './remote-key-set.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

/** A JWKS endpoint on a real loopback server, whose behaviour a test changes as it goes. */
interface JwksEndpoint extends TestServer {
  state: { keys: unknown[]; etag: string; cacheControl: string | undefined; down: boolean; delayMs: number };
}

let endpoint: JwksEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

async function serveJwks(keys: unknown[] = issuer.jwks.keys): Promise<JwksEndpoint> {
  const state: JwksEndpoint['state'] = {
    keys,
    etag: '"v1"',
    cacheControl: 'public, max-age=60',
    down: false,
    delayMs: 0,
  };
  const server = await startServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    setTimeout(() => {
      if (state.down) return void res.writeHead(503).end();
      const headers: Record<string, string> = { etag: state.etag };
      if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl;
      if (req.headers['if-none-match'] === state.etag) return void res.writeHead(304, headers).end();
      res
        .writeHead(200, { ...headers, 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: state.keys }));
    }, state.delayMs);
  });
  endpoint = Object.assign(server, { state });
  return endpoint;
}

describe('createRemoteKeySet caching', () => {
  it('serves keys from cache while the response max-age lasts', async () => {
    const server = await serveJwks();
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock });
    await keySet.getKey(issuer.es256.kid);
    clock.advance(59);
    await keySet.getKey(issuer.ed25519.kid);
    expect(server.requests).toHaveLength(1);
  });

  it('revalidates with If-None-Match after max-age and keeps the set on 304', async () => {
    const server = await serveJwks();
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock });
    const first = await keySet.getKey(issuer.es256.kid);
    clock.advance(61);
    const second = await keySet.getKey(issuer.es256.kid);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.headers['if-none-match']).toBe('"v1"');
    expect(second).toBe(first);
    // The 304 freshened the set for another max-age.
    clock.advance(59);
    await keySet.getKey(issuer.es256.kid);
    expect(server.requests).toHaveLength(2);
  });

  it('counts the Age header against max-age', async () => {
    const server = await serveJwks();
    server.state.cacheControl = 'max-age=60';
    const clock = createTestClock();
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const response = await globalThis.fetch(input, init);
      const headers = new Headers(response.headers);
      headers.set('age', '50');
      return new Response(response.body, { status: response.status, headers });
    };
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock, fetch, cooldownSec: 5 });
    await keySet.getKey(issuer.es256.kid);
    clock.advance(11);
    await keySet.getKey(issuer.es256.kid);
    expect(server.requests).toHaveLength(2);
  });

  it('imports each key once: refetching identical JWKs reuses the imported key', async () => {
    const server = await serveJwks();
    server.state.cacheControl = 'max-age=0';
    server.state.etag = '';
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock, cooldownSec: 1 });
    const first = await keySet.getKey(issuer.es256.kid);
    clock.advance(2);
    const second = await keySet.getKey(issuer.es256.kid);
    expect(server.requests).toHaveLength(2);
    expect(second).toBe(first);
  });

  it('never revalidates more often than the cooldown, even with no-store', async () => {
    const server = await serveJwks();
    server.state.cacheControl = 'no-store';
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock });
    for (let i = 0; i < 5; i++) {
      await keySet.getKey(issuer.es256.kid);
      clock.advance(5);
    }
    expect(server.requests).toHaveLength(1);
  });
});

describe('createRemoteKeySet unknown kid', () => {
  it('refetches once on an unknown kid and finds a rotated-in key', async () => {
    const server = await serveJwks([issuer.es256.publicJwk]);
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock });
    await keySet.getKey(issuer.es256.kid);
    server.state.keys = issuer.jwks.keys;
    server.state.etag = '"v2"';
    clock.advance(31);
    await expect(keySet.getKey(issuer.ed25519.kid)).resolves.toMatchObject({ alg: 'EdDSA' });
    expect(server.requests).toHaveLength(2);
  });

  it('does not refetch for a second unknown kid within the cooldown', async () => {
    const server = await serveJwks();
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock, cooldownSec: 30 });
    await keySet.getKey(issuer.es256.kid);
    clock.advance(31);
    await expectRefusal(keySet.getKey('made-up-1'), 'ERR_TOKEN_KID_UNKNOWN');
    expect(server.requests).toHaveLength(2);
    clock.advance(10);
    await expectRefusal(keySet.getKey('made-up-2'), 'ERR_TOKEN_KID_UNKNOWN');
    expect(server.requests).toHaveLength(2);
    clock.advance(21);
    await expectRefusal(keySet.getKey('made-up-3'), 'ERR_TOKEN_KID_UNKNOWN');
    expect(server.requests).toHaveLength(3);
  });

  it('does not refetch for a flood of unknown kids right after the first fetch', async () => {
    const fetch = countingFetch(() => issuer.jwks);
    const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => expectRefusal(keySet.getKey(`made-up-${i}`), 'ERR_TOKEN_KID_UNKNOWN')),
    );
    expect(fetch.calls).toBe(1);
  });
});

describe('createRemoteKeySet concurrency', () => {
  it('merges 10 concurrent verifications on a cold cache into one fetch', async () => {
    const server = await serveJwks();
    server.state.delayMs = 50;
    const keySet = createRemoteKeySet(`${server.url}/jwks`);
    const tokens = await Promise.all(
      Array.from({ length: 10 }, () => sign(issuer.es256, accessTokenClaims(), { typ: 'at+jwt' })),
    );
    const results = await Promise.all(
      tokens.map((token) => verifyAccessToken(token, { issuer: ISSUER, audience: API, keySet })),
    );
    expect(results).toHaveLength(10);
    expect(server.requests).toHaveLength(1);
  });
});

describe('createRemoteKeySet issuer outage', () => {
  it('serves the last good set while the issuer is down, then ERR_JWKS_UNAVAILABLE after maxStaleSec', async () => {
    const server = await serveJwks();
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock, maxStaleSec: 3600 });
    await keySet.getKey(issuer.es256.kid);
    server.state.down = true;

    clock.advance(61); // stale: revalidation fails, the last good set is served
    await expect(keySet.getKey(issuer.es256.kid)).resolves.toBeDefined();
    clock.advance(1800);
    await expect(keySet.getKey(issuer.es256.kid)).resolves.toBeDefined();
    expect(server.requests).toHaveLength(3);

    clock.advance(1800); // 60 s fresh + 3601 s stale: beyond maxStaleSec
    await expectRefusal(keySet.getKey(issuer.es256.kid), 'ERR_JWKS_UNAVAILABLE');

    server.state.down = false; // the issuer comes back: the next allowed fetch restores service
    clock.advance(31);
    await expect(keySet.getKey(issuer.es256.kid)).resolves.toBeDefined();
  });

  it('retries an unreachable issuer at most once per cooldown', async () => {
    const server = await serveJwks();
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { now: clock });
    await keySet.getKey(issuer.es256.kid);
    server.state.down = true;
    clock.advance(61);
    for (let i = 0; i < 10; i++) await keySet.getKey(issuer.es256.kid);
    expect(server.requests).toHaveLength(2);
  });

  it('fails with ERR_JWKS_UNAVAILABLE when the issuer was never reachable', async () => {
    const server = await serveJwks();
    server.state.down = true;
    const keySet = createRemoteKeySet(`${server.url}/jwks`);
    await expectRefusal(keySet.getKey(issuer.es256.kid), 'ERR_JWKS_UNAVAILABLE');
  });

  it('fails with ERR_JWKS_UNAVAILABLE when nothing listens at the JWKS URL', async () => {
    const server = await serveJwks();
    const url = `${server.url}/jwks`;
    await server.close();
    endpoint = undefined;
    await expectRefusal(createRemoteKeySet(url).getKey(issuer.es256.kid), 'ERR_JWKS_UNAVAILABLE');
  });

  it('refuses a JWKS document larger than maxResponseBytes', async () => {
    const server = await serveJwks();
    const keySet = createRemoteKeySet(`${server.url}/jwks`, { maxResponseBytes: 100 });
    await expectRefusal(keySet.getKey(issuer.es256.kid), 'ERR_JWKS_UNAVAILABLE');
  });

  it('rejects refresh() with ERR_JWKS_UNAVAILABLE when the fetch fails', async () => {
    const server = await serveJwks();
    server.state.down = true;
    await expectRefusal(createRemoteKeySet(`${server.url}/jwks`).refresh(), 'ERR_JWKS_UNAVAILABLE');
  });
});

describe('createRemoteKeySet key selection', () => {
  it('skips keys a verifier must not use', async () => {
    const { es256, ed25519 } = issuer;
    const fetch = countingFetch(() => ({
      keys: [
        { kty: 'oct', kid: 'symmetric', k: 'c2VjcmV0' },
        { ...es256.publicJwk, kid: 'private', d: 'AAAA' },
        { ...es256.publicJwk, kid: 'encryption', use: 'enc' },
        { ...es256.publicJwk, kid: 'wrong-alg', alg: 'ES384' },
        { ...es256.publicJwk, kid: 'no-verify', key_ops: ['encrypt'] },
        { ...es256.publicJwk, kid: 'twice' },
        { ...ed25519.publicJwk, kid: 'twice' },
        { ...ed25519.publicJwk, kid: 'derived', alg: undefined },
      ],
    }));
    const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch });
    for (const kid of ['symmetric', 'private', 'encryption', 'wrong-alg', 'no-verify', 'twice']) {
      await expectRefusal(keySet.getKey(kid), 'ERR_TOKEN_KID_UNKNOWN');
    }
    await expect(keySet.getKey('derived')).resolves.toMatchObject({ alg: 'EdDSA' });
  });

  it('throws a TypeError for a non-http JWKS URL', () => {
    expect(() => createRemoteKeySet('file:///etc/passwd')).toThrow(TypeError);
  });
});

describe('createRemoteKeySet keyInHand', () => {
  it('has the key getKey gives while the set is fresh, none before a fetch or once stale; never fetches', async () => {
    const fetch = countingFetch(() => issuer.jwks);
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch, now: clock });
    const { kid } = issuer.es256;
    expect(keySet.keyInHand(kid)).toBeUndefined();
    expect(fetch.calls).toBe(0);
    const key = await keySet.getKey(kid);
    expect(keySet.keyInHand(kid)).toBe(key);
    expect(keySet.keyInHand('no-such-kid')).toBeUndefined();
    clock.advance(300); // the default max-age: stale, so getKey decides (it revalidates)
    expect(keySet.keyInHand(kid)).toBeUndefined();
    expect(fetch.calls).toBe(1);
  });
});
