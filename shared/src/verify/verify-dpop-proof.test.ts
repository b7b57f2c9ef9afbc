import { describe, expect, it } from 'vitest';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createMemoryJtiStore } from './jti-store.js';
import { DPoPProofError, accessTokenHash, verifyDPoPProof, type VerifyDPoPProofOptions } from './verify-dpop-proof.js';

const NOW = 1_800_000_000_000;
const URL_ = 'https://idp.example/token';
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = await exportJWK(publicKey);
const other = await generateKeyPair('ES256');

async function proof(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: CryptoKey = privateKey,
): Promise<string> {
  return new SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: URL_, iat: NOW / 1000, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(key);
}

const options = (over: Partial<VerifyDPoPProofOptions> = {}): VerifyDPoPProofOptions => ({
  method: 'POST',
  url: URL_,
  now: () => NOW,
  ...over,
});

async function refusal(value: Promise<unknown>): Promise<string> {
  try {
    await value;
  } catch (e) {
    expect(e).toBeInstanceOf(DPoPProofError);
    return (e as DPoPProofError).code;
  }
  throw new Error('accepted');
}

describe('verifyDPoPProof (RFC 9449 §4.3)', () => {
  it("accepts a fresh proof for the request and gives its key's thumbprint (RFC 7638)", async () => {
    const verified = await verifyDPoPProof(await proof(), options());
    expect(verified.jkt).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
    expect(verified.claims).toMatchObject({ htm: 'POST', htu: URL_ });
  });

  it('ignores the query and fragment of htu and of the request URL, and normalizes scheme and host', async () => {
    const p = await proof({ htu: 'HTTPS://IDP.example:443/token?x=1#f' });
    await expect(verifyDPoPProof(p, options({ url: `${URL_}?y=2` }))).resolves.toBeTruthy();
  });

  it('refuses what is not one JWT, another typ, alg none or a MAC, and a missing or private jwk', async () => {
    expect(await refusal(verifyDPoPProof(undefined, options()))).toBe('ERR_DPOP_MALFORMED');
    expect(await refusal(verifyDPoPProof(`${await proof()},${await proof()}`, options()))).toBe('ERR_DPOP_MALFORMED');
    expect(await refusal(verifyDPoPProof(await proof({}, { typ: 'JWT' }), options()))).toBe('ERR_DPOP_TYPE');
    const claims = { jti: 'x', htm: 'POST', htu: URL_, iat: NOW / 1000 };
    const none = `${base64({ alg: 'none', typ: 'dpop+jwt', jwk })}.${base64(claims)}.`;
    expect(await refusal(verifyDPoPProof(`${none}x`, options()))).toBe('ERR_DPOP_ALG');
    const mac = await new SignJWT({ jti: 'x', htm: 'POST', htu: URL_, iat: NOW / 1000 })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as JWK })
      .sign(new TextEncoder().encode('secret'));
    expect(await refusal(verifyDPoPProof(mac, options()))).toBe('ERR_DPOP_ALG');
    const withPrivate = await proof({}, { jwk: await exportJWK(privateKey) });
    expect(await refusal(verifyDPoPProof(withPrivate, options()))).toBe('ERR_DPOP_KEY');
    expect(await refusal(verifyDPoPProof(await proof({}, { jwk: undefined }), options()))).toBe('ERR_DPOP_KEY');
  });

  it('refuses a proof signed with another key than the one in its header', async () => {
    expect(await refusal(verifyDPoPProof(await proof({}, {}, other.privateKey), options()))).toBe('ERR_DPOP_SIGNATURE');
  });

  it('refuses a proof for another method or URL, or without jti, htm, htu or iat', async () => {
    expect(await refusal(verifyDPoPProof(await proof({ htm: 'GET' }), options()))).toBe('ERR_DPOP_METHOD');
    expect(await refusal(verifyDPoPProof(await proof({ htu: 'https://idp.example/userinfo' }), options()))).toBe(
      'ERR_DPOP_URL',
    );
    expect(await refusal(verifyDPoPProof(await proof({ htu: 'https://evil.example/token' }), options()))).toBe(
      'ERR_DPOP_URL',
    );
    for (const missing of ['jti', 'htm', 'htu', 'iat'])
      expect(await refusal(verifyDPoPProof(await proof({ [missing]: undefined }), options()))).toBe('ERR_DPOP_CLAIM');
  });

  it('refuses a proof older than the window, or from the future beyond the leeway', async () => {
    expect(await refusal(verifyDPoPProof(await proof({ iat: NOW / 1000 - 66 }), options()))).toBe('ERR_DPOP_IAT');
    expect(await refusal(verifyDPoPProof(await proof({ iat: NOW / 1000 + 6 }), options()))).toBe('ERR_DPOP_IAT');
    await expect(verifyDPoPProof(await proof({ iat: NOW / 1000 - 64 }), options())).resolves.toBeTruthy();
  });

  it("at a resource, requires ath of the very token and the token's bound key", async () => {
    const token = 'the.access.token';
    const ath = await accessTokenHash(token);
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const at = options({ method: 'GET', url: 'https://api.example/me', accessToken: token, boundJkt: jkt });
    const good = await proof({ htm: 'GET', htu: 'https://api.example/me', ath });
    await expect(verifyDPoPProof(good, at)).resolves.toBeTruthy();
    expect(await refusal(verifyDPoPProof(await proof({ htm: 'GET', htu: 'https://api.example/me' }), at))).toBe(
      'ERR_DPOP_ATH',
    );
    const forOther = await proof({ htm: 'GET', htu: 'https://api.example/me', ath: await accessTokenHash('other') });
    expect(await refusal(verifyDPoPProof(forOther, at))).toBe('ERR_DPOP_ATH');
    const otherJwk = (await exportJWK(other.publicKey)) as JWK;
    const otherKey = await proof(
      { htm: 'GET', htu: 'https://api.example/me', ath },
      { jwk: otherJwk },
      other.privateKey,
    );
    expect(await refusal(verifyDPoPProof(otherKey, at))).toBe('ERR_DPOP_BINDING');
  });

  it('refuses a replay within the window, and only after every other check passed', async () => {
    const jtiStore = createMemoryJtiStore();
    const p = await proof();
    expect(await refusal(verifyDPoPProof(p, options({ url: 'https://idp.example/other', jtiStore })))).toBe(
      'ERR_DPOP_URL',
    );
    await expect(verifyDPoPProof(p, options({ jtiStore }))).resolves.toBeTruthy();
    expect(await refusal(verifyDPoPProof(p, options({ jtiStore })))).toBe('ERR_DPOP_REPLAYED');
  });

  it("asks for the server's nonce when the check refuses the proof's", async () => {
    const checkNonce = (n: string | undefined) => n === 'fresh';
    expect(await refusal(verifyDPoPProof(await proof(), options({ checkNonce })))).toBe('ERR_DPOP_NONCE');
    expect(await refusal(verifyDPoPProof(await proof({ nonce: 'stale' }), options({ checkNonce })))).toBe(
      'ERR_DPOP_NONCE',
    );
    const verified = await verifyDPoPProof(await proof({ nonce: 'fresh' }), options({ checkNonce }));
    expect(verified.claims.nonce).toBe('fresh');
  });
});

function base64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
