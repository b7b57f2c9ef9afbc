import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteKeySet } from '../jwks/remote-key-set.js';
import { createTestClock } from '../../test/support/clock.js';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import {
  API,
  ISSUER,
  accessTokenClaims,
  countingFetch,
  createSigningKey,
  createTestIssuer,
  handmade,
  idTokenClaims,
  logoutTokenClaims,
  nowSec,
  sign,
  startServer,
  type SigningKey,
  type TestIssuer,
  type TestServer,
} from '../../test/support/issuer.js';
import type { TokenVerificationErrorCode } from './errors.js';
import { createAccessTokenVerifier, verifyAccessToken, type VerifyAccessTokenOptions } from './verify-access-token.js';

let issuer: TestIssuer;
let attacker: SigningKey;
let foreign: TestServer;

beforeAll(async () => {
  issuer = await createTestIssuer();
  attacker = await createSigningKey('ES256');
  // A server the attacker controls, serving the attacker's keys: must never be asked.
  foreign = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }));
  });
});
afterAll(() => foreign.close());

function setup(extra: Partial<VerifyAccessTokenOptions> = {}) {
  const fetch = countingFetch(() => issuer.jwks);
  const clock = createTestClock();
  const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch, now: clock });
  const options: VerifyAccessTokenOptions = { issuer: ISSUER, audience: API, keySet, ...extra };
  return { fetch, clock, keySet, options };
}

const at = { typ: 'at+jwt' } as const;

describe('verifyAccessToken accepts', () => {
  it('accepts a valid ES256 access token and returns its claims and header', async () => {
    const { options } = setup();
    const claims = accessTokenClaims();
    const result = await verifyAccessToken(await sign(issuer.es256, claims, at), options);
    expect(result.claims).toEqual(claims);
    expect(result.header).toMatchObject({ alg: 'ES256', kid: issuer.es256.kid, typ: 'at+jwt' });
  });

  it('accepts an EdDSA access token signed with the Ed25519 key', async () => {
    const { options } = setup();
    const { claims } = await verifyAccessToken(await sign(issuer.ed25519, accessTokenClaims(), at), options);
    expect(claims.sub).toBe('user-1');
  });

  it('accepts typ application/at+jwt (RFC 9068 §4)', async () => {
    const { options } = setup();
    await expect(
      verifyAccessToken(await sign(issuer.es256, accessTokenClaims(), { typ: 'application/at+jwt' }), options),
    ).resolves.toBeDefined();
  });

  it('accepts a token whose aud array holds one of the configured audiences', async () => {
    const { options } = setup({ audience: ['https://other.example', API] });
    const token = await sign(issuer.es256, accessTokenClaims({ aud: ['https://third.example', API] }), at);
    await expect(verifyAccessToken(token, options)).resolves.toBeDefined();
  });

  it('accepts a token expired less than the clock tolerance ago', async () => {
    const { options } = setup({ clockToleranceSec: 30 });
    const token = await sign(issuer.es256, accessTokenClaims({ iat: nowSec() - 300, exp: nowSec() - 10 }), at);
    await expect(verifyAccessToken(token, options)).resolves.toBeDefined();
  });

  it('fetches the JWKS once for many verifications', async () => {
    const { options, fetch } = setup();
    for (let i = 0; i < 5; i++) await verifyAccessToken(await sign(issuer.es256, accessTokenClaims(), at), options);
    expect(fetch.calls).toBe(1);
  });
});

describe('verifyAccessToken refuses algorithms and keys the token picks', () => {
  it('rejects alg none', async () => {
    const { options } = setup();
    const token = handmade({ alg: 'none', typ: 'at+jwt', kid: issuer.es256.kid }, accessTokenClaims());
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_ALG');
  });

  it('rejects HS256 signed with the public JWK JSON as the secret', async () => {
    const { options } = setup();
    const secret = new TextEncoder().encode(JSON.stringify(issuer.es256.publicJwk));
    const token = await new SignJWT(accessTokenClaims())
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: issuer.es256.kid })
      .sign(secret);
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_ALG');
  });

  it('rejects HS256 signed with the public key PEM bytes as the secret', async () => {
    const { options } = setup();
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const rsa = { ...(await exportJWK(publicKey)), kid: 'rsa-1', alg: 'RS256' };
    const fetch = countingFetch(() => ({ keys: [...issuer.jwks.keys, rsa] }));
    const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch });
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    const token = await new SignJWT(accessTokenClaims())
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'rsa-1' })
      .sign(pem);
    await expectRefusal(verifyAccessToken(token, { ...options, keySet }), 'ERR_TOKEN_ALG');
  });

  it('rejects a token whose alg is not the algorithm of the key its kid names', async () => {
    const { options } = setup();
    // Signed by the issuer's Ed25519 key, but claims the ES256 key's kid: the key decides the alg.
    const token = await sign(issuer.ed25519, accessTokenClaims(), { ...at, kid: issuer.es256.kid });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_ALG');
  });

  it('rejects an unknown kid after exactly one JWKS refetch', async () => {
    const { options, fetch, clock, keySet } = setup();
    await keySet.getKey(issuer.es256.kid);
    clock.advance(31);
    const token = await sign(attacker, accessTokenClaims(), at);
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_KID_UNKNOWN');
    expect(fetch.calls).toBe(2);
  });

  it('rejects a token without kid', async () => {
    const { options } = setup();
    const token = await sign(issuer.es256, accessTokenClaims(), { ...at, kid: undefined });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_KID_UNKNOWN');
  });

  it("rejects an embedded jwk header carrying the attacker's own key", async () => {
    const { options } = setup();
    const token = await sign(attacker, accessTokenClaims(), { ...at, kid: undefined, jwk: attacker.publicJwk });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_KID_UNKNOWN');
  });

  it("rejects an embedded jwk header under the issuer's kid (the set's key is used, not the embedded)", async () => {
    const { options } = setup();
    const token = await sign(attacker, accessTokenClaims(), { ...at, kid: issuer.es256.kid, jwk: attacker.publicJwk });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_SIGNATURE');
  });

  it('rejects a jku header pointing elsewhere, and never fetches it', async () => {
    const { options } = setup();
    const token = await sign(attacker, accessTokenClaims(), { ...at, jku: `${foreign.url}/jwks` });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_KID_UNKNOWN');
    expect(foreign.requests).toHaveLength(0);
  });

  it('rejects an x5u header pointing elsewhere, and never fetches it', async () => {
    const { options } = setup();
    const token = await sign(attacker, accessTokenClaims(), { ...at, x5u: `${foreign.url}/cert.pem` });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_KID_UNKNOWN');
    expect(foreign.requests).toHaveLength(0);
  });

  it('rejects a token with an unknown critical header', async () => {
    const { options } = setup();
    const token = handmade(
      { alg: 'ES256', typ: 'at+jwt', kid: issuer.es256.kid, crit: ['exp-ext'], 'exp-ext': 1 },
      accessTokenClaims(),
      'AAAA',
    );
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_MALFORMED');
  });
});

describe('verifyAccessToken refuses tampering', () => {
  it('rejects a tampered payload', async () => {
    const { options } = setup();
    const [header, , signature] = (await sign(issuer.es256, accessTokenClaims(), at)).split('.');
    const forged = handmade({}, accessTokenClaims({ sub: 'admin' })).split('.')[1];
    await expectRefusal(verifyAccessToken(`${header}.${forged}.${signature}`, options), 'ERR_TOKEN_SIGNATURE');
  });

  it('rejects a tampered header', async () => {
    const { options } = setup();
    const [, payload, signature] = (await sign(issuer.es256, accessTokenClaims(), at)).split('.');
    const header = handmade({ alg: 'ES256', kid: issuer.es256.kid, typ: 'at+jwt', cty: 'x' }, {}).split('.')[0];
    await expectRefusal(verifyAccessToken(`${header}.${payload}.${signature}`, options), 'ERR_TOKEN_SIGNATURE');
  });

  it('rejects a tampered signature', async () => {
    const { options } = setup();
    const token = await sign(issuer.es256, accessTokenClaims(), at);
    const flipped = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await expectRefusal(verifyAccessToken(flipped, options), 'ERR_TOKEN_SIGNATURE');
  });

  it('rejects a stripped signature', async () => {
    const { options } = setup();
    const [header, payload] = (await sign(issuer.es256, accessTokenClaims(), at)).split('.');
    await expectRefusal(verifyAccessToken(`${header}.${payload}.`, options), 'ERR_TOKEN_SIGNATURE');
  });

  it('rejects a string that is not a JWT', async () => {
    const { options } = setup();
    await expectRefusal(verifyAccessToken('not-a-jwt', options), 'ERR_TOKEN_MALFORMED');
  });

  it('rejects a token larger than maxTokenBytes before parsing it or fetching keys', async () => {
    const { options, fetch } = setup();
    const token = await sign(issuer.es256, accessTokenClaims({ pad: 'x'.repeat(17 * 1024) }), at);
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_TOO_LARGE');
    expect(fetch.calls).toBe(0);
  });
});

describe('verifyAccessToken refuses claims', () => {
  // Each case: a token of the issuer's with `changes` made to its claims (read when the test runs, for the times).
  it.each<[string, () => Parameters<typeof accessTokenClaims>[0], TokenVerificationErrorCode]>([
    ['a token from another issuer', () => ({ iss: 'http://evil.localhost' }), 'ERR_TOKEN_ISSUER'],
    ['a token without iss', () => ({ iss: undefined }), 'ERR_TOKEN_ISSUER'],
    ['a token for another audience', () => ({ aud: 'http://other-api.localhost' }), 'ERR_TOKEN_AUDIENCE'],
    ['a token without aud', () => ({ aud: undefined }), 'ERR_TOKEN_AUDIENCE'],
    [
      'a token expired past the default leeway',
      () => ({ iat: nowSec() - 600, exp: nowSec() - 61 }),
      'ERR_TOKEN_EXPIRED',
    ],
    ['a token without exp', () => ({ exp: undefined }), 'ERR_TOKEN_CLAIM'],
    ['a token whose nbf is past the leeway', () => ({ nbf: nowSec() + 120 }), 'ERR_TOKEN_NOT_YET_VALID'],
    ['a token without jti', () => ({ jti: undefined }), 'ERR_TOKEN_CLAIM'],
    ['a token whose sub is not a string', () => ({ sub: 42 as unknown as string }), 'ERR_TOKEN_CLAIM'],
  ])('rejects %s', async (_, changes, code) => {
    const { options } = setup();
    await expectRefusal(verifyAccessToken(await sign(issuer.es256, accessTokenClaims(changes()), at), options), code);
  });

  it('rejects an ID token presented as an access token', async () => {
    const { options } = setup();
    const idToken = await sign(
      issuer.es256,
      idTokenClaims({ aud: API, client_id: 'app-b', scope: 'openid', jti: 'j' }),
    );
    await expectRefusal(verifyAccessToken(idToken, options), 'ERR_TOKEN_TYPE');
  });

  it('rejects an access token typed JWT', async () => {
    const { options } = setup();
    await expectRefusal(
      verifyAccessToken(await sign(issuer.es256, accessTokenClaims(), { typ: 'JWT' }), options),
      'ERR_TOKEN_TYPE',
    );
  });

  it('rejects a logout token presented as an access token', async () => {
    const { options } = setup();
    const token = await sign(issuer.es256, logoutTokenClaims({ aud: API }), { typ: 'logout+jwt' });
    await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_TYPE');
  });

  it('rejects a token issued in the future beyond the clock tolerance', async () => {
    const { options } = setup({ clockToleranceSec: 5 });
    const error = await expectRefusal(
      verifyAccessToken(
        await sign(issuer.es256, accessTokenClaims({ iat: nowSec() + 60, exp: nowSec() + 600 }), at),
        options,
      ),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    expect(error.claim).toBe('iat');
  });

  it('rejects a token without client_id (RFC 9068 §2.2)', async () => {
    const { options } = setup();
    const error = await expectRefusal(
      verifyAccessToken(await sign(issuer.es256, accessTokenClaims({ client_id: undefined }), at), options),
      'ERR_TOKEN_CLAIM',
    );
    expect(error.claim).toBe('client_id');
  });

  it('rejects a token lacking a required scope', async () => {
    const { options } = setup({ requiredScopes: ['email'] });
    await expectRefusal(
      verifyAccessToken(await sign(issuer.es256, accessTokenClaims(), at), options),
      'ERR_TOKEN_SCOPE',
    );
  });

  it('rejects a token the isRevoked hook reports revoked', async () => {
    const { options } = setup({ isRevoked: (claims) => claims.sid === 'sid-1' });
    await expectRefusal(
      verifyAccessToken(await sign(issuer.es256, accessTokenClaims(), at), options),
      'ERR_TOKEN_REVOKED',
    );
  });
});

describe('a refusal by a time check', () => {
  it('says how far ahead the issuer signed, reading iat as the middle of its second', async () => {
    const { options } = setup();
    // Wherever in its second our clock is, a token signed with the issuer 90 s ahead reads 90.
    for (const fraction of [0.05, 0.5, 0.95]) {
      const nowMs = (Math.floor(Date.now() / 1000) + fraction) * 1000;
      const iat = Math.floor(nowMs / 1000 + 90);
      const token = await sign(issuer.es256, accessTokenClaims({ iat, exp: iat + 300 }), at);
      const error = await expectRefusal(
        verifyAccessToken(token, { ...options, now: () => nowMs }),
        'ERR_TOKEN_NOT_YET_VALID',
      );
      expect([error.claim, error.issuedAtOffsetSec]).toEqual(['iat', 90]);
    }
  });

  it('carries the offset of an expired token too: its age, negated', async () => {
    const { options } = setup();
    const token = await sign(issuer.es256, accessTokenClaims({ iat: nowSec() - 600, exp: nowSec() - 300 }), at);
    const error = await expectRefusal(verifyAccessToken(token, options), 'ERR_TOKEN_EXPIRED');
    expect(error.issuedAtOffsetSec).toBeGreaterThanOrEqual(-600);
    expect(error.issuedAtOffsetSec).toBeLessThanOrEqual(-599);
  });
});

describe('verifyAccessToken options', () => {
  it('throws a TypeError for a clock tolerance above 300 seconds or below 0', async () => {
    for (const clockToleranceSec of [301, -1, Number.NaN]) {
      const { options } = setup({ clockToleranceSec });
      await expect(verifyAccessToken('x.y.z', options)).rejects.toThrow(TypeError);
    }
  });

  it('throws a TypeError without audience', async () => {
    const { options } = setup({ audience: '' });
    await expect(verifyAccessToken('x.y.z', options)).rejects.toThrow(TypeError);
  });

  it('throws a TypeError for a requiredScopes entry with a space', async () => {
    const { options } = setup({ requiredScopes: ['a b'] });
    await expect(verifyAccessToken('x.y.z', options)).rejects.toThrow(TypeError);
  });
});

describe('createAccessTokenVerifier cache', () => {
  it('answers a token seen again from the cache', async () => {
    const { options } = setup();
    const verify = createAccessTokenVerifier(options);
    const token = await sign(issuer.es256, accessTokenClaims(), at);
    const first = await verify(token);
    expect((await verify(token)).claims).toBe(first.claims);
  });

  it('returns frozen claims, so one request cannot change what the next one sees', async () => {
    const { options } = setup();
    const { claims } = await createAccessTokenVerifier(options)(await sign(issuer.es256, accessTokenClaims(), at));
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('rejects a cached token once it has expired', async () => {
    const { options, clock } = setup();
    const verify = createAccessTokenVerifier({ ...options, now: clock });
    const iat = Math.floor(clock() / 1000);
    const token = await sign(issuer.es256, accessTokenClaims({ iat, exp: iat + 60 }), at);
    await verify(token);
    // Past exp, within the default leeway: still accepted, from the cache; past both, refused.
    clock.advance(61);
    await expect(verify(token)).resolves.toBeDefined();
    clock.advance(60);
    await expectRefusal(verify(token), 'ERR_TOKEN_EXPIRED');
  });

  it('rejects a cached token once its key has left the issuer set', async () => {
    let jwks: { keys: unknown[] } = issuer.jwks;
    const fetch = countingFetch(() => jwks);
    const clock = createTestClock();
    const keySet = createRemoteKeySet(`${ISSUER}/jwks`, { fetch, now: clock });
    const verify = createAccessTokenVerifier({ issuer: ISSUER, audience: API, keySet, now: clock });
    const iat = Math.floor(clock() / 1000);
    const token = await sign(issuer.es256, accessTokenClaims({ iat, exp: iat + 3600 }), at);
    await verify(token);
    jwks = { keys: [issuer.ed25519.publicJwk] };
    clock.advance(301); // past the default max-age: the set is refetched without the ES256 key
    await expectRefusal(verify(token), 'ERR_TOKEN_KID_UNKNOWN');
  });

  it('asks isRevoked again for a cached token', async () => {
    let revoked = false;
    const { options } = setup({ isRevoked: () => revoked });
    const verify = createAccessTokenVerifier(options);
    const token = await sign(issuer.es256, accessTokenClaims(), at);
    await verify(token);
    revoked = true;
    await expectRefusal(verify(token), 'ERR_TOKEN_REVOKED');
  });

  it('keeps no more than cacheSize tokens', async () => {
    const { options } = setup();
    const verify = createAccessTokenVerifier({ ...options, cacheSize: 1 });
    const [a, b] = await Promise.all([
      sign(issuer.es256, accessTokenClaims(), at),
      sign(issuer.es256, accessTokenClaims(), at),
    ]);
    const first = await verify(a);
    await verify(b);
    expect((await verify(a)).claims).not.toBe(first.claims);
  });
});
