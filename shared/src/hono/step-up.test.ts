import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { API, ISSUER, accessTokenClaims, createLocalIssuer, nowSec, sign } from '../../test/support/issuer.js';
import { ACR_MFA, ACR_PASSWORD, ACR_PHISHING_RESISTANT } from '../authn/authentication-context.js';
import { createDPoPProver } from '../rp/dpop-prover.js';
import { requireBearer, type AccessTokenEnv, type RequireBearerOptions } from './require-bearer.js';
import { requireUserAuthentication, type RequireUserAuthenticationOptions } from './step-up.js';

const { issuer, keySet } = await createLocalIssuer();

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const accessToken = (overrides = {}) => sign(issuer.es256, accessTokenClaims(overrides), { typ: 'at+jwt' });

/** An API whose /api/me needs a bearer token and /api/security also a stronger sign-in. */
function apiWith(step: RequireUserAuthenticationOptions, bearerOptions: Partial<RequireBearerOptions> = {}) {
  const app = new Hono<AccessTokenEnv>();
  app.use('/api/*', requireBearer({ issuer: ISSUER, audience: API, keySet, ...bearerOptions }));
  app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
  app.get('/api/security', requireUserAuthentication(step), (c) => c.json({ acr: c.get('accessToken').acr }));
  return app;
}

const STRONGER = 'A stronger authentication is required';
const RECENT = 'A more recent authentication is required';

describe('requireUserAuthentication (RFC 9470)', () => {
  it('lets a token whose acr meets the requirement through', async () => {
    const response = await apiWith({ acr: ACR_MFA }).request(
      '/api/security',
      bearer(await accessToken({ acr: ACR_MFA })),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ acr: ACR_MFA });
  });

  it('lets a stronger class meet a weaker requirement', async () => {
    const token = await accessToken({ acr: ACR_PHISHING_RESISTANT });
    expect((await apiWith({ acr: ACR_MFA }).request('/api/security', bearer(token))).status).toBe(200);
  });

  it('answers 401 insufficient_user_authentication with acr_values for a password-only token (§3)', async () => {
    const app = apiWith({ acr: ACR_MFA });
    const token = await accessToken({ acr: ACR_PASSWORD });
    const response = await app.request('/api/security', bearer(token));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_user_authentication", error_description="${STRONGER}", acr_values="${ACR_MFA}"`,
    );
    expect(await response.json()).toEqual({ error: 'insufficient_user_authentication', error_description: STRONGER });
    // The same token is good where no more is needed.
    expect((await app.request('/api/me', bearer(token))).status).toBe(200);
  });

  it('refuses a token without acr, and one with a class it does not know', async () => {
    const app = apiWith({ acr: ACR_MFA });
    for (const acr of [undefined, 'urn:example:acr:mfa', ['urn:tessera:acr:mfa']]) {
      const response = await app.request('/api/security', bearer(await accessToken({ acr })));
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe('insufficient_user_authentication');
    }
  });

  it('answers with max_age when the sign-in is older than allowed, and with the realm', async () => {
    const app = apiWith({ acr: ACR_MFA, maxAgeSec: 300, realm: 'app-b', clockToleranceSec: 0 });
    const old = await accessToken({ acr: ACR_MFA, auth_time: nowSec() - 301 });
    const response = await app.request('/api/security', bearer(old));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="app-b", error="insufficient_user_authentication", error_description="${RECENT}", ` +
        `acr_values="${ACR_MFA}", max_age="300"`,
    );
    const recent = await accessToken({ acr: ACR_MFA, auth_time: nowSec() - 290 });
    expect((await app.request('/api/security', bearer(recent))).status).toBe(200);
  });

  it('refuses a token without auth_time when an age is required (§4)', async () => {
    const response = await apiWith({ maxAgeSec: 600 }).request('/api/security', bearer(await accessToken()));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_user_authentication", error_description="${RECENT}", max_age="600"`,
    );
  });

  it('reads the time from the clock it is given', async () => {
    const authTime = nowSec() - 1000;
    const token = await accessToken({ acr: ACR_MFA, auth_time: authTime });
    const then = () => (authTime + 100) * 1000;
    expect((await apiWith({ maxAgeSec: 300, now: then }).request('/api/security', bearer(token))).status).toBe(200);
    expect((await apiWith({ maxAgeSec: 300 }).request('/api/security', bearer(token))).status).toBe(401);
  });

  it('checks its options when the app is built', () => {
    expect(() => requireUserAuthentication({ acr: 'urn:tessera:acr:mfa ' })).toThrow(TypeError);
    expect(() => requireUserAuthentication({ maxAgeSec: -1 })).toThrow(TypeError);
    expect(() => requireUserAuthentication({ acr: ACR_MFA, realm: 'a"b' })).toThrow(TypeError);
    expect(() => requireUserAuthentication({ maxAgeSec: 60, clockToleranceSec: 301 })).toThrow(TypeError);
    expect(() => requireUserAuthentication({ acr: ACR_MFA, dpopAlgorithms: ['HS256'] })).toThrow(TypeError);
  });

  it('answers in the DPoP scheme a token that came with it', async () => {
    const prover = await createDPoPProver();
    const url = 'http://api.test/api/security';
    const app = apiWith({ acr: ACR_MFA, dpopAlgorithms: ['ES256'] }, { dpop: { algorithms: ['ES256'] } });
    const token = await accessToken({ acr: ACR_PASSWORD, cnf: { jkt: prover.jkt } });
    const proof = await prover.proof({ method: 'GET', url, accessToken: token });
    const response = await app.request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `DPoP error="insufficient_user_authentication", error_description="${STRONGER}", acr_values="${ACR_MFA}", ` +
        'algs="ES256"',
    );
  });

  it('fails loudly when mounted without requireBearer before it', async () => {
    const app = new Hono<AccessTokenEnv>();
    app.get('/api/security', requireUserAuthentication({ acr: ACR_MFA }), (c) => c.text('in'));
    app.onError((error, c) => c.text(error.message, 500));
    const response = await app.request('/api/security');
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('requireUserAuthentication runs after requireBearer');
  });
});

describe('requireBearer with userAuthentication', () => {
  const app = () => {
    const api = new Hono<AccessTokenEnv>();
    api.use(
      '/api/*',
      requireBearer({ issuer: ISSUER, audience: API, keySet, realm: 'api', userAuthentication: { acr: ACR_MFA } }),
    );
    api.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
    return api;
  };

  it('asks every route for the class', async () => {
    const response = await app().request('/api/me', bearer(await accessToken({ acr: ACR_PASSWORD })));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="api", error="insufficient_user_authentication", error_description="${STRONGER}", ` +
        `acr_values="${ACR_MFA}"`,
    );
    expect((await app().request('/api/me', bearer(await accessToken({ acr: ACR_MFA })))).status).toBe(200);
  });

  it('still refuses a bad token as invalid_token first', async () => {
    const token = await accessToken({ acr: ACR_MFA, aud: 'http://other' });
    const response = await app().request('/api/me', bearer(token));
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('invalid_token');
  });

  it('answers a DPoP-bound token in the DPoP scheme (RFC 9449 §7.1), after its proof holds', async () => {
    const prover = await createDPoPProver();
    const url = 'http://api.test/api/me';
    const api = new Hono<AccessTokenEnv>();
    api.use(
      '/api/*',
      requireBearer({ issuer: ISSUER, audience: API, keySet, dpop: {}, userAuthentication: { acr: ACR_MFA } }),
    );
    api.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
    const call = async (acr: string) => {
      const token = await accessToken({ acr, cnf: { jkt: prover.jkt } });
      const proof = await prover.proof({ method: 'GET', url, accessToken: token });
      return api.request(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    };
    const weak = await call(ACR_PASSWORD);
    expect(weak.status).toBe(401);
    expect(weak.headers.get('www-authenticate')).toBe(
      `DPoP error="insufficient_user_authentication", error_description="${STRONGER}", acr_values="${ACR_MFA}", ` +
        'algs="ES256 ES384 EdDSA RS256 PS256"',
    );
    expect((await call(ACR_MFA)).status).toBe(200);
  });

  it('refuses an unknown class at start-up', () => {
    expect(() => requireBearer({ issuer: ISSUER, audience: API, keySet, userAuthentication: { acr: 'mfa' } })).toThrow(
      TypeError,
    );
  });
});
