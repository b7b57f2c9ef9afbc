import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { API, ISSUER, accessTokenClaims, createLocalIssuer, sign } from '../../test/support/issuer.js';
import { createDPoPProver, type DPoPProver } from '../rp/dpop-prover.js';
import { requireBearer, type AccessTokenEnv, type RequireBearerOptions } from './require-bearer.js';

const { issuer, keySet } = await createLocalIssuer();
const URL_ME = 'http://api.test/api/me';
const ALGS = 'algs="ES256 ES384 EdDSA RS256 PS256"';
const BOUND = 'The access token is DPoP-bound and needs the DPoP scheme with a proof';

function appWith(extra: Partial<RequireBearerOptions> = { dpop: {} }) {
  const app = new Hono<AccessTokenEnv>();
  app.use('/api/*', requireBearer({ issuer: ISSUER, audience: API, keySet, ...extra }));
  app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
  app.post('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
  return app;
}

const boundToken = (prover: DPoPProver) =>
  sign(issuer.es256, accessTokenClaims({ cnf: { jkt: prover.jkt } }), { typ: 'at+jwt' });

async function dpopRequest(token: string, proof: string | undefined, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `DPoP ${token}`);
  if (proof !== undefined) headers.set('dpop', proof);
  return { ...init, headers };
}

describe('requireBearer with DPoP-bound tokens (RFC 9449 §7)', async () => {
  const prover = await createDPoPProver();
  const token = await boundToken(prover);

  it('takes a bound token with a proof made for this request by its key', async () => {
    const proof = await prover.proof({ method: 'GET', url: URL_ME, accessToken: token });
    const response = await appWith().request(URL_ME, await dpopRequest(token, proof));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'user-1' });
  });

  it('refuses the bound token as a bearer token: 401 invalid_token, pointing to the DPoP scheme (§7.2)', async () => {
    const response = await appWith().request(URL_ME, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: BOUND });
    expect(response.headers.get('www-authenticate')).toBe(
      `DPoP error="invalid_token", error_description="${BOUND}", ${ALGS}`,
    );
  });

  it('refuses it as a bearer token even where the API takes no DPoP', async () => {
    const response = await appWith({}).request(URL_ME, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${BOUND}"`);
  });

  it('refuses the DPoP scheme without a proof: 401 invalid_dpop_proof (§7.1)', async () => {
    const response = await appWith().request(URL_ME, await dpopRequest(token, undefined));
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('invalid_dpop_proof');
    expect(response.headers.get('www-authenticate')).toBe(
      `DPoP error="invalid_dpop_proof", error_description="The DPoP proof is missing or malformed", ${ALGS}`,
    );
  });

  it('refuses a proof used before, for another method, URL or token', async () => {
    const app = appWith();
    const proof = await prover.proof({ method: 'GET', url: URL_ME, accessToken: token });
    expect((await app.request(URL_ME, await dpopRequest(token, proof))).status).toBe(200);
    const cases: [string, Promise<string>, string][] = [
      ['replayed', Promise.resolve(proof), 'The DPoP proof was used before'],
      [
        'method',
        prover.proof({ method: 'POST', url: URL_ME, accessToken: token }),
        'The DPoP proof is for another method',
      ],
      [
        'url',
        prover.proof({ method: 'GET', url: 'http://api.test/api/other', accessToken: token }),
        'The DPoP proof is for another URL',
      ],
      [
        'ath',
        prover.proof({ method: 'GET', url: URL_ME, accessToken: await boundToken(prover) }),
        'The DPoP proof is not for this access token',
      ],
      ['no ath', prover.proof({ method: 'GET', url: URL_ME }), 'The DPoP proof is not for this access token'],
    ];
    for (const [name, made, description] of cases) {
      const response = await app.request(URL_ME, await dpopRequest(token, await made));
      expect(response.status, name).toBe(401);
      expect(await response.json(), name).toEqual({ error: 'invalid_dpop_proof', error_description: description });
    }
  });

  it('refuses a proof by another key than the one the token is bound to: invalid_token', async () => {
    const thief = await createDPoPProver();
    const proof = await thief.proof({ method: 'GET', url: URL_ME, accessToken: token });
    const response = await appWith().request(URL_ME, await dpopRequest(token, proof));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The DPoP proof key is not the key the access token is bound to',
    });
  });

  it('refuses the DPoP scheme with a token bound to no key', async () => {
    const unbound = await sign(issuer.es256, accessTokenClaims(), { typ: 'at+jwt' });
    const proof = await prover.proof({ method: 'GET', url: URL_ME, accessToken: unbound });
    const response = await appWith().request(URL_ME, await dpopRequest(unbound, proof));
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('invalid_token');
  });

  it('still takes unbound bearer tokens, and offers both schemes to a request without credentials', async () => {
    const unbound = await sign(issuer.es256, accessTokenClaims(), { typ: 'at+jwt' });
    const app = appWith({ dpop: {}, realm: 'api' });
    expect((await app.request(URL_ME, { headers: { authorization: `Bearer ${unbound}` } })).status).toBe(200);
    const response = await app.request(URL_ME);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="api", DPoP realm="api", ${ALGS}`);
  });

  it('without the dpop option the DPoP scheme is not taken at all', async () => {
    const proof = await prover.proof({ method: 'GET', url: URL_ME, accessToken: token });
    const response = await appWith({}).request(URL_ME, await dpopRequest(token, proof));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('compares htu with the public URL the app names (behind a proxy)', async () => {
    const app = appWith({ dpop: { requestUrl: (c) => `https://api.example.com${new URL(c.req.url).pathname}` } });
    const internal = await prover.proof({ method: 'GET', url: URL_ME, accessToken: token });
    expect((await app.request(URL_ME, await dpopRequest(token, internal))).status).toBe(401);
    const external = await prover.proof({ method: 'GET', url: 'https://api.example.com/api/me', accessToken: token });
    expect((await app.request(URL_ME, await dpopRequest(token, external))).status).toBe(200);
  });

  it('checks its options at start-up', () => {
    expect(() => appWith({ dpop: { algorithms: ['HS256'] } })).toThrow(TypeError);
  });
});
