import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  API,
  ISSUER,
  accessTokenClaims,
  createLocalIssuer,
  idTokenClaims,
  nowSec,
  sign,
} from '../../test/support/issuer.js';
import type { KeySet } from '../jwks/key-set.js';
import { TokenVerificationError } from '../verify/errors.js';
import type { DPoPProofError } from '../verify/verify-dpop-proof.js';
import { requireBearer, type AccessTokenEnv, type RequireBearerOptions } from './require-bearer.js';

const { issuer, keySet } = await createLocalIssuer();

function appWith(extra: Partial<RequireBearerOptions> = {}) {
  const app = new Hono<AccessTokenEnv>();
  app.use('/api/*', requireBearer({ issuer: ISSUER, audience: API, keySet, ...extra }));
  app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub, scope: c.get('accessToken').scope }));
  return app;
}

const bearer = (token: string, scheme = 'Bearer') => ({ headers: { Authorization: `${scheme} ${token}` } });
const accessToken = (overrides = {}) => sign(issuer.es256, accessTokenClaims(overrides), { typ: 'at+jwt' });

describe('requireBearer', () => {
  it('lets a valid access token through and exposes its claims', async () => {
    const response = await appWith().request('/api/me', bearer(await accessToken()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'user-1', scope: 'openid profile' });
  });

  it('accepts the scheme in any case (RFC 9110 §11.1)', async () => {
    const response = await appWith().request('/api/me', bearer(await accessToken(), 'bEaReR'));
    expect(response.status).toBe(200);
  });

  it('answers 401 with a bare Bearer challenge when no token is sent (RFC 6750 §3.1)', async () => {
    const response = await appWith({ realm: 'api' }).request('/api/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(await response.text()).toBe('');
  });

  it('answers 401 with a bare Bearer challenge for another scheme', async () => {
    const response = await appWith().request('/api/me', { headers: { Authorization: 'Basic YTpi' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers 401 invalid_token for an expired token', async () => {
    const response = await appWith().request(
      '/api/me',
      bearer(await accessToken({ iat: nowSec() - 600, exp: nowSec() - 61 })),
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: 'The access token expired' });
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The access token expired"',
    );
  });

  it('answers 401 invalid_token for an ID token presented as an access token', async () => {
    const idToken = await sign(
      issuer.es256,
      idTokenClaims({ aud: API, client_id: 'app-b', scope: 'openid', jti: 'j' }),
    );
    const response = await appWith().request('/api/me', bearer(idToken));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The token is not an access token',
    });
  });

  it('answers 401 invalid_token for a header that is not a b64token', async () => {
    const response = await appWith().request('/api/me', bearer('abc def'));
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('invalid_token');
  });

  it('answers 401 invalid_token when the isRevoked hook reports the session ended', async () => {
    const response = await appWith({ isRevoked: (claims) => claims.sid === 'sid-1' }).request(
      '/api/me',
      bearer(await accessToken()),
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token was revoked',
    });
  });

  it('answers 403 insufficient_scope with the scope needed (RFC 6750 §3.1)', async () => {
    const response = await appWith({ requiredScopes: ['email'] }).request('/api/me', bearer(await accessToken()));
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="email"',
    );
  });

  it('answers 503 when the issuer keys are unavailable, so clients retry instead of signing in again', async () => {
    const unavailable: KeySet = {
      getKey: async () => {
        throw new TokenVerificationError('ERR_JWKS_UNAVAILABLE', 'down');
      },
    };
    const response = await appWith({ keySet: unavailable }).request('/api/me', bearer(await accessToken()));
    expect(response.status).toBe(503);
    expect((await response.json()).error).toBe('temporarily_unavailable');
  });

  it('reports each refusal to onError with its code', async () => {
    const seen: (TokenVerificationError | DPoPProofError)[] = [];
    await appWith({ onError: (error) => seen.push(error) }).request(
      '/api/me',
      bearer(await accessToken({ aud: 'http://other' })),
    );
    expect(seen.map((e) => e.code)).toEqual(['ERR_TOKEN_AUDIENCE']);
  });

  it('leaves errors that are not about the token to the app error handler', async () => {
    const app = appWith({
      isRevoked: () => {
        throw new Error('revocation store down');
      },
    });
    app.onError((_error, c) => c.text('handled', 500));
    const response = await app.request('/api/me', bearer(await accessToken()));
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('handled');
  });

  it('checks its options when the app is built', () => {
    expect(() => requireBearer({ issuer: ISSUER, audience: API, keySet, clockToleranceSec: 301 })).toThrow(TypeError);
    expect(() => requireBearer({ issuer: ISSUER, audience: API, keySet, realm: 'a"b' })).toThrow(TypeError);
    expect(() => requireBearer({ issuer: '', audience: API, keySet })).toThrow(TypeError);
  });

  it('returns a named middleware function', () => {
    expect(requireBearer({ issuer: ISSUER, audience: API, keySet }).name).toBe('requireBearer');
  });
});
