/**
 * What survives a restart on the same database and address: the discovery document, the signing
 * keys (stored encrypted), users with their stable `sub`, SSO sessions and the tokens issued
 * before. A different key-encryption key cannot open them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { seed, sql, startIssuer, type RunningIssuer } from './support/fixture.js';
import { browserFlow, signInAndRedeem } from './support/browser.js';
import type { CookieJarClient } from '@tessera/shared/testing';

let first: RunningIssuer;
let second: RunningIssuer;
let fx: Awaited<ReturnType<typeof seed>>;
let idTokenBefore: string;
let accessTokenBefore: string;
let jarBefore: CookieJarClient;
let keysBefore: JWK[];
let discoveryBefore: unknown;

const jwksOf = async (running: RunningIssuer) =>
  ((await (await fetch(new URL('/jwks', running.url))).json()) as { keys: JWK[] }).keys;

beforeAll(async () => {
  first = await startIssuer();
  fx = await seed(first);
  const { tokens, jar } = await signInAndRedeem(first.url, {
    clientId: fx.publicClient.id,
    redirectUri: fx.redirectUri,
  });
  idTokenBefore = tokens.id_token as string;
  accessTokenBefore = tokens.access_token as string;
  jarBefore = jar;
  keysBefore = await jwksOf(first);
  discoveryBefore = await (await fetch(new URL('/.well-known/openid-configuration', first.url))).json();
  await first.stop();
  // The same address, as a deployed issuer keeps its URL: tokens name it in `iss`.
  second = await startIssuer({ database: first.database, port: Number(new URL(first.url).port) });
});
afterAll(async () => {
  await first.stop();
  await second.cleanup();
});

describe('an issuer restarted on the same database', () => {
  it('serves the same discovery document at the same address', async () => {
    expect(second.url).toBe(first.url);
    expect(second.database).toBe(first.database);
    const discovery = await (await fetch(new URL('/.well-known/openid-configuration', second.url))).json();
    expect(discovery).toEqual(discoveryBefore);
  });

  it('publishes the same JWKS as before', async () => {
    expect(await jwksOf(second)).toEqual(keysBefore);
  });

  it('accepts an access token issued before the restart at userinfo', async () => {
    const res = await fetch(new URL('/userinfo', second.url), {
      headers: { authorization: `Bearer ${accessTokenBefore}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(fx.alice.sub);
  });

  it('verifies an ID token signed before the restart against the JWKS served after it', async () => {
    const jwks = createLocalJWKSet({ keys: await jwksOf(second) });
    const { payload } = await jwtVerify(idTokenBefore, jwks, {
      issuer: second.url,
      audience: fx.publicClient.id,
      algorithms: ['ES256'],
    });
    expect(payload.sub).toBe(fx.alice.sub);
  });

  it('signs new tokens with the same key', async () => {
    const { tokens } = await signInAndRedeem(second.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
    expect(decodeProtectedHeader(tokens.id_token as string).kid).toBe(decodeProtectedHeader(idTokenBefore).kid);
  });

  it('signs the same user in with the same sub', async () => {
    const { tokens } = await signInAndRedeem(second.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    expect(decodeJwt(tokens.id_token as string).sub).toBe(fx.alice.sub);
  });

  it('keeps the SSO session: the browser signed in before gets a code without a sign-in', async () => {
    const { callback } = await browserFlow(
      second.url,
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri, extra: { prompt: 'none' } },
      null,
      jarBefore,
    );
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('iss')).toBe(second.url);
  });
});

describe('signing keys at rest', () => {
  const rows = () => sql(second, 'select * from signing_keys');

  it('stores each private key as a compact JWE (dir, A256GCM)', async () => {
    expect((await rows()).length).toBeGreaterThan(0);
    for (const row of await rows()) {
      const jwe = row.private_jwk_encrypted as string;
      expect(jwe.split('.')).toHaveLength(5);
      expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'dir', enc: 'A256GCM' });
    }
  });

  it('has no private key member in any column', async () => {
    for (const row of await rows()) {
      const text = JSON.stringify(row);
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(text).not.toContain(`"${m}"`);
    }
  });
});

describe('a different key-encryption key', () => {
  it('stops the issuer from starting on that database', async () => {
    const otherKey = randomBytes(32).toString('base64url');
    expect(otherKey).toHaveLength(43);
    await expect(
      startIssuer({ database: first.database, env: { TESSERA_KEY_ENCRYPTION_KEY: otherKey } }),
    ).rejects.toThrow(/^TESSERA_KEY_ENCRYPTION_KEY: cannot decrypt signing key/);
  });

  it('leaves the stored keys untouched by the failed start', async () => {
    await expect(
      startIssuer({
        database: first.database,
        env: { TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url') },
      }),
    ).rejects.toThrow();
    const kids = (await sql(second, 'select kid from signing_keys')).map((r) => r.kid as string);
    // Row order and JWKS order carry no meaning (RFC 7517 §5.1): compare as sets.
    expect(kids.sort()).toEqual(keysBefore.map((k) => k.kid!).sort());
  });
});
