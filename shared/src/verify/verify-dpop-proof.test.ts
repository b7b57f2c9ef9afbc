import { beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createMemoryJtiStore } from './jti-store.js';
import { nodeDPoPCrypto } from './node-dpop-crypto.js';
import {
  DPoPProofError,
  accessTokenHash,
  verifyDPoPProof,
  type DPoPCrypto,
  type VerifyDPoPProofOptions,
} from './verify-dpop-proof.js';

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

// Every check runs on both paths: Web Crypto through jose (browsers, the default) and node:crypto.
const PATHS: { path: string; crypto: DPoPCrypto | undefined }[] = [
  { path: 'Web Crypto through jose', crypto: undefined },
  { path: 'node:crypto (nodeDPoPCrypto)', crypto: nodeDPoPCrypto },
];
let cryptoUnderTest: DPoPCrypto | undefined;

const options = (over: Partial<VerifyDPoPProofOptions> = {}): VerifyDPoPProofOptions => ({
  method: 'POST',
  url: URL_,
  now: () => NOW,
  ...(cryptoUnderTest ? { crypto: cryptoUnderTest } : {}),
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

describe.each(PATHS)('verifyDPoPProof (RFC 9449 §4.3), $path', ({ crypto: path }) => {
  beforeEach(() => {
    cryptoUnderTest = path;
  });

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
  it("refuses a key of another kind than the alg needs, and gives every key type's RFC 7638 thumbprint", async () => {
    const p384 = await generateKeyPair('ES384', { extractable: true });
    const asEs256 = await proof({}, { jwk: await exportJWK(p384.publicKey) });
    expect(await refusal(verifyDPoPProof(asEs256, options()))).toBe('ERR_DPOP_KEY');
    for (const alg of ['EdDSA', 'RS256', 'PS256', 'ES384'] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const signed = await new SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: URL_, iat: NOW / 1000 })
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: publicJwk })
        .sign(pair.privateKey);
      const verified = await verifyDPoPProof(signed, options());
      expect(verified.jkt, alg).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    }
  });

  it('refuses an exp in the past and an nbf in the future, as for any JWT (RFC 7519 §4.1.4–4.1.5)', async () => {
    expect(await refusal(verifyDPoPProof(await proof({ exp: NOW / 1000 - 10 }), options()))).toBe('ERR_DPOP_CLAIM');
    expect(await refusal(verifyDPoPProof(await proof({ nbf: NOW / 1000 + 10 }), options()))).toBe('ERR_DPOP_CLAIM');
  });
});

describe('nodeDPoPCrypto', () => {
  it('refuses an RSA key under 2048 bits and a key whose kind does not fit the alg', async () => {
    const { publicKey: small } = await import('node:crypto').then((c) =>
      c.generateKeyPairSync('rsa', { modulusLength: 1024 }),
    );
    const smallJwk = small.export({ format: 'jwk' }) as JWK;
    const data = new Uint8Array([1]);
    expect(() => nodeDPoPCrypto.verify('RS256', smallJwk, data, data)).toThrow(TypeError);
    expect(() => nodeDPoPCrypto.verify('ES384', jwk, data, data)).toThrow(TypeError);
    expect(() => nodeDPoPCrypto.verify('EdDSA', jwk, data, data)).toThrow(TypeError);
  });
});

function base64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
