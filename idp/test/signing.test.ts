/** Tokens signed with each supported algorithm verify with an independent JOSE library (jose). */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signInAndRedeem } from './support/browser.js';
import { seed, startIssuer } from './support/fixture.js';

describe.each([
  ['ES256', 'sha256'],
  ['EdDSA', 'sha512'],
  ['RS256', 'sha256'],
] as const)('signing with %s', (alg, atHashDigest) => {
  it('issues access and ID tokens that verify against the JWKS, with at_hash from the matching digest', async () => {
    const idp = await startIssuer({ env: { TESSERA_SIGNING_ALG: alg } });
    try {
      const fx = await seed(idp);
      const { tokens } = await signInAndRedeem(idp.url, {
        clientId: fx.confidential.id,
        redirectUri: fx.redirectUri,
        auth: fx.confidential,
        extra: { resource: fx.api.id },
      });
      const jwks = createRemoteJWKSet(new URL(`${idp.url}/jwks`));
      const access = await jwtVerify(tokens.access_token as string, jwks, {
        issuer: idp.url,
        audience: fx.api.id,
        typ: 'at+jwt',
        algorithms: [alg],
      });
      expect(access.protectedHeader.alg).toBe(alg);
      const id = await jwtVerify(tokens.id_token as string, jwks, {
        issuer: idp.url,
        audience: fx.confidential.id,
        algorithms: [alg],
      });
      // OIDC Core §3.1.3.6: the left half of the hash the signing algorithm uses (SHA-512 for Ed25519).
      const digest = createHash(atHashDigest)
        .update(tokens.access_token as string)
        .digest();
      expect(id.payload.at_hash).toBe(digest.subarray(0, digest.length / 2).toString('base64url'));
    } finally {
      await idp.cleanup();
    }
  });

  it('signs many tokens of different kinds at once, each with its own header and claims', async () => {
    const idp = await startIssuer({ env: { TESSERA_SIGNING_ALG: alg } });
    try {
      const ring = idp.issuer.ctx.keys;
      const kinds = ['at+jwt', 'JWT', 'logout+jwt'];
      const tokens = await Promise.all(
        Array.from({ length: 48 }, (_, n) => ring.sign({ iss: idp.url, sub: `person-${n}` }, kinds[n % kinds.length]!)),
      );
      const jwks = createLocalJWKSet(JSON.parse(ring.jwks.body));
      for (const [n, token] of tokens.entries()) {
        const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: idp.url, algorithms: [alg] });
        expect(payload.sub).toBe(`person-${n}`);
        expect(protectedHeader).toEqual({ alg, kid: ring.kid, typ: kinds[n % kinds.length] });
      }
      expect(new Set(tokens.map((t) => JSON.stringify(decodeProtectedHeader(t)))).size).toBe(kinds.length);
    } finally {
      await idp.cleanup();
    }
  });
});
