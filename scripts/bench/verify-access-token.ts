/**
 * A relying app verifying access tokens, keys cached, against the floor: a bare node:crypto
 * ES256 signature check of the same tokens. Server-side apps use withNodeSignatures (node:crypto);
 * the Web Crypto path is what a browser gets. The goal (docs/architecture.md, "Performance goals"):
 * ≥ 0.9× the floor for new tokens on the server default; ≥ 5× for repeated tokens.
 *
 * Rates are per second of this process's CPU time (all its threads, so the Web Crypto path's
 * thread-pool work counts): nothing here waits on I/O, and on a shared machine wall time mostly
 * measures the neighbours. Many short rounds, the order rotated each round, and each ratio taken
 * within its round, so what noise is left shows as the range printed next to the median ratio.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createAccessTokenVerifier, createLocalKeySet } from '@tessera/shared';
import { withNodeSignatures } from '@tessera/shared/node';
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';

const issuer = 'https://issuer.example';
const audience = 'https://api.example';
const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
const keySet = await createLocalKeySet({ keys: [jwk] });

const N = 4096;
const now = Math.floor(Date.now() / 1000);
const tokens: string[] = [];
for (let i = 0; i < N; i++) {
  tokens.push(
    await new SignJWT({
      sub: `user-${i}`,
      client_id: 'app',
      scope: 'openid',
      jti: `j${i}`,
      email: 'a@example.com',
      name: 'A',
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey),
  );
}
const nodeKey = createPublicKey({ key: jwk, format: 'jwk' });
const parts = tokens.map((t) => {
  const [h, p, s] = t.split('.');
  return { input: Buffer.from(`${h}.${p}`), sig: Buffer.from(s!, 'base64url') };
});

const fresh = createAccessTokenVerifier({ issuer, audience, keySet, cacheSize: 0 });
const freshNode = createAccessTokenVerifier({ issuer, audience, keySet: withNodeSignatures(keySet), cacheSize: 0 });
const cached = createAccessTokenVerifier({ issuer, audience, keySet, cacheSize: 10_000 });
for (const t of tokens) await cached(t);

const FLOOR = 'node:crypto ES256 signature check alone (floor)';
const NEW_NODE = 'verifyAccessToken, new tokens, node:crypto (server default)';
const CACHED = 'verifyAccessToken, tokens seen before (cache)';
const results = await compare(
  [
    {
      name: FLOOR,
      fn: (i) => {
        const p = parts[i % N]!;
        if (!cryptoVerify('sha256', p.input, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, p.sig))
          throw new Error('bad');
      },
    },
    { name: NEW_NODE, fn: (i) => freshNode(tokens[i % N]!) },
    { name: 'verifyAccessToken, new tokens, Web Crypto (browser path)', fn: (i) => fresh(tokens[i % N]!) },
    { name: CACHED, fn: (i) => cached(tokens[i % N]!) },
  ],
  // The same time in all as the other benchmarks, in five times as many rounds.
  { ms: Math.max(100, BENCH_MS / 5), rounds: BENCH_ROUNDS * 5, clock: 'cpu', rotate: true },
);
report('Access-token verification, keys cached, one core, per CPU second', results, { [NEW_NODE]: 0.9, [CACHED]: 5 });
