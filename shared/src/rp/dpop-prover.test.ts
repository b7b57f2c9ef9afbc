import { Hono } from 'hono';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createMemoryJtiStore } from '../verify/jti-store.js';
import { verifyDPoPProof } from '../verify/verify-dpop-proof.js';
import { exchangeCode } from './code-exchange.js';
import { createDPoPProver, withDPoP } from './dpop-prover.js';
import { CodeExchangeError } from './errors.js';

describe('createDPoPProver (RFC 9449 §4.2)', () => {
  it('signs proofs a verifier takes: htu without query, ath of the token, the key of jkt', async () => {
    const prover = await createDPoPProver();
    const proof = await prover.proof({ method: 'get', url: 'https://api.test/me?x=1#f', accessToken: 'the-token' });
    const verified = await verifyDPoPProof(proof, {
      method: 'GET',
      url: 'https://api.test/me',
      accessToken: 'the-token',
      boundJkt: prover.jkt,
    });
    expect(verified.claims.htu).toBe('https://api.test/me');
    expect(verified.jkt).toBe(prover.jkt);
    // Only the public key travels; every proof has its own jti.
    const { jwk } = decodeProtectedHeader(proof);
    expect(Object.keys(jwk ?? {}).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    const again = await prover.proof({ method: 'GET', url: 'https://api.test/me', accessToken: 'the-token' });
    const store = createMemoryJtiStore();
    const check = { method: 'GET', url: 'https://api.test/me', accessToken: 'the-token', jtiStore: store };
    await verifyDPoPProof(proof, check);
    await expect(verifyDPoPProof(again, check)).resolves.toBeDefined();
  });

  it("signs with a key pair it is given, and names that key's thumbprint", async () => {
    const keyPair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const prover = await createDPoPProver({ keyPair });
    expect(prover.jkt).toBe(await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256'));
    const proof = await prover.proof({ method: 'GET', url: 'https://api.test/me' });
    const verified = await verifyDPoPProof(proof, { method: 'GET', url: 'https://api.test/me', boundJkt: prover.jkt });
    expect(verified.jkt).toBe(prover.jkt);
  });

  it('carries the nonce a server gave, for that server only', async () => {
    const prover = await createDPoPProver();
    prover.rememberNonce('https://idp.test/token', 'n-1');
    const decode = (jwt: string) => JSON.parse(atob((jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')));
    expect(decode(await prover.proof({ method: 'POST', url: 'https://idp.test/token' })).nonce).toBe('n-1');
    expect(decode(await prover.proof({ method: 'GET', url: 'https://api.test/me' })).nonce).toBeUndefined();
    prover.rememberNonce('https://idp.test/', 'bad"nonce');
    expect(prover.nonceFor('https://idp.test/x')).toBe('n-1');
  });
});

/** A token endpoint that wants a nonce (RFC 9449 §8) and binds what it issues. */
function nonceDemandingTokenEndpoint(tokenType = 'DPoP') {
  const seen: { nonce: string | undefined; jkt: string }[] = [];
  const app = new Hono();
  app.post('/token', async (c) => {
    const verified = await verifyDPoPProof(c.req.header('dpop'), { method: 'POST', url: c.req.url });
    seen.push({ nonce: verified.claims.nonce, jkt: verified.jkt });
    if (verified.claims.nonce !== 'server-nonce') {
      return c.json({ error: 'use_dpop_nonce', error_description: 'nonce' }, 400, { 'DPoP-Nonce': 'server-nonce' });
    }
    return c.json({ access_token: 'at', token_type: tokenType, expires_in: 60 });
  });
  const fetch = (input: string | URL | Request, init?: RequestInit) => Promise.resolve(app.request(input, init));
  return { fetch, seen };
}

describe('exchangeCode with a DPoP prover (RFC 9449 §5, §8)', () => {
  const request = {
    tokenEndpoint: 'http://idp.test/token',
    clientId: 'app-b',
    code: 'c',
    codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    redirectUri: 'http://app-b.test/',
  };

  it('sends a proof, answers use_dpop_nonce once with the nonce, and takes a DPoP token', async () => {
    const prover = await createDPoPProver();
    const { fetch, seen } = nonceDemandingTokenEndpoint();
    const tokens = await exchangeCode({ ...request, fetch, dpop: prover });
    expect(tokens.token_type).toBe('DPoP');
    expect(seen).toEqual([
      { nonce: undefined, jkt: prover.jkt },
      { nonce: 'server-nonce', jkt: prover.jkt },
    ]);
    // The nonce is kept for the next request to that server: no second refusal.
    await exchangeCode({ ...request, fetch, dpop: prover });
    expect(seen.slice(2).map((s) => s.nonce)).toEqual(['server-nonce']);
  });

  it('refuses a Bearer token when it asked for a bound one (no silent downgrade)', async () => {
    const { fetch } = nonceDemandingTokenEndpoint('Bearer');
    const error = await exchangeCode({ ...request, fetch, dpop: await createDPoPProver() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodeExchangeError);
    expect((error as CodeExchangeError).message).toMatch(/token_type DPoP/);
  });

  it('withDPoP adds ath when the request carries a DPoP-bound token', async () => {
    const prover = await createDPoPProver();
    let checked = false;
    const app = new Hono();
    app.get('/api/me', async (c) => {
      const token = (c.req.header('authorization') ?? '').replace(/^DPoP /, '');
      await verifyDPoPProof(c.req.header('dpop'), {
        method: 'GET',
        url: c.req.url,
        accessToken: token,
        boundJkt: prover.jkt,
      });
      checked = true;
      return c.json({});
    });
    const fetch = withDPoP(prover, (input, init) => Promise.resolve(app.request(input, init)));
    const response = await fetch('http://api.test/api/me', { headers: { authorization: 'DPoP the-token' } });
    expect(response.status).toBe(200);
    expect(checked).toBe(true);
  });
});
