/**
 * What DPoP costs an API built on the shared kit (`requireBearer`), per request, against the same
 * API taking plain bearer tokens: the proof's signature, its key's thumbprint, the `ath` digest and
 * the used-proof record on top of the token's own check. In process (Hono's `app.request`, no
 * sockets), token signatures through node:crypto as app B has them, proofs checked with node:crypto
 * (app B, the issuer) and, for comparison, Web Crypto (the default); proofs made beforehand
 * (the client's cost is not the API's), used proofs kept in memory; app B keeps them in its
 * database, which adds one insert per request on top of this.
 */
import { Hono } from 'hono';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import {
  createDPoPProver,
  createLocalKeySet,
  createMemoryJtiStore,
  requireBearer,
  type AccessTokenEnv,
  type JtiStore,
} from '@tessera/shared';
import { nodeDPoPCrypto, withNodeSignatures } from '@tessera/shared/node';
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';

const issuer = 'https://issuer.example';
const audience = 'https://api.example';
const url = 'https://api.example/api/me';
const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
const keySet = withNodeSignatures(await createLocalKeySet({ keys: [jwk] }));
const prover = await createDPoPProver();

const now = Math.floor(Date.now() / 1000);
const accessToken = (i: number, cnf?: { jkt: string }) =>
  new SignJWT({ sub: `user-${i}`, client_id: 'app', scope: 'openid', jti: `j${i}`, ...(cnf ? { cnf } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);

// Each request a token the API has not seen (no verification cache hit) and, for DPoP, a proof of its own.
const N = 8192;
const bearer: string[] = [];
const bound: { token: string; proof: string }[] = [];
for (let i = 0; i < N; i++) {
  bearer.push(await accessToken(i));
  const token = await accessToken(i, { jkt: prover.jkt });
  bound.push({ token, proof: await prover.proof({ method: 'GET', url, accessToken: token }) });
}

// A fresh record of used proofs each time the proofs come round again, so none is a replay.
let used = createMemoryJtiStore({ maxEntries: N + 1 });
const jtiStore: JtiStore = { consume: (jti, exp) => used.consume(jti, exp) };

function api(dpop?: { crypto?: typeof nodeDPoPCrypto }) {
  const app = new Hono<AccessTokenEnv>();
  app.use(
    '/api/*',
    requireBearer({ issuer, audience, keySet, cacheSize: 0, ...(dpop ? { dpop: { ...dpop, jtiStore } } : {}) }),
  );
  app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
  return app;
}
const bearerApi = api();
const dpopApi = api({ crypto: nodeDPoPCrypto });
const dpopWebCryptoApi = api({});

async function expectOk(response: Response | Promise<Response>): Promise<void> {
  const r = await response;
  if (r.status !== 200) throw new Error(`the API answered ${r.status}: ${await r.text()}`);
}

const BEARER = 'requireBearer, bearer tokens (reference)';
const DPOP = 'requireBearer, DPoP, proofs checked with node:crypto';
const DPOP_WEB = 'requireBearer, DPoP, proofs checked with Web Crypto';
const dpopRequest = (app: Hono<AccessTokenEnv>, i: number) => {
  if (i % N === 0) used = createMemoryJtiStore({ maxEntries: N + 1 });
  const { token, proof } = bound[i % N]!;
  return expectOk(app.request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } }));
};
const results = await compare(
  [
    {
      name: BEARER,
      fn: (i) => expectOk(bearerApi.request(url, { headers: { authorization: `Bearer ${bearer[i % N]}` } })),
    },
    { name: DPOP, fn: (i) => dpopRequest(dpopApi, i) },
    { name: DPOP_WEB, fn: (i) => dpopRequest(dpopWebCryptoApi, i) },
  ],
  { ms: Math.max(100, BENCH_MS / 5), rounds: BENCH_ROUNDS * 5, clock: 'cpu', rotate: true },
);
report('An API taking access tokens, in process, one core, per CPU second', results);
