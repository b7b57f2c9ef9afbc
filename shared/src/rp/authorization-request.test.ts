import { describe, expect, it } from 'vitest';
import { createAuthorizationRequest, type AuthorizationRequestOptions } from './authorization-request.js';
import { computeCodeChallenge } from './pkce.js';

const base: AuthorizationRequestOptions = {
  authorizationEndpoint: 'http://idp.localhost:4000/authorize',
  clientId: 'app-b',
  redirectUri: 'http://app-b.localhost:4002/callback',
  scope: ['openid', 'profile'],
};

describe('createAuthorizationRequest', () => {
  it('builds a code request with PKCE S256, state and nonce', async () => {
    const request = await createAuthorizationRequest(base);
    const params = request.url.searchParams;
    expect(request.url.origin + request.url.pathname).toBe('http://idp.localhost:4000/authorize');
    expect(Object.fromEntries(params)).toEqual({
      response_type: 'code',
      client_id: 'app-b',
      redirect_uri: 'http://app-b.localhost:4002/callback',
      scope: 'openid profile',
      state: request.state,
      nonce: request.nonce,
      code_challenge: await computeCodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
    });
    for (const secret of [request.state, request.nonce, request.codeVerifier])
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('creates different state, nonce and verifier for each request', async () => {
    const [a, b] = await Promise.all([createAuthorizationRequest(base), createAuthorizationRequest(base)]);
    expect(a.state).not.toBe(b.state);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
  });

  it('sends one resource parameter per resource indicator (RFC 8707 §2)', async () => {
    const request = await createAuthorizationRequest({
      ...base,
      resource: ['http://api.localhost/a', 'http://api.localhost/b'],
      prompt: 'login',
      maxAgeSec: 300,
    });
    expect(request.url.searchParams.getAll('resource')).toEqual(['http://api.localhost/a', 'http://api.localhost/b']);
    expect(request.url.searchParams.get('prompt')).toBe('login');
    expect(request.url.searchParams.get('max_age')).toBe('300');
  });

  it('sends acr_values space-separated (OIDC Core §3.1.2.1), and refuses a value with a space', async () => {
    const request = await createAuthorizationRequest({ ...base, acrValues: ['urn:tessera:acr:mfa', 'phr'] });
    expect(request.url.searchParams.get('acr_values')).toBe('urn:tessera:acr:mfa phr');
    const fromString = await createAuthorizationRequest({ ...base, acrValues: 'phr' });
    expect(fromString.url.searchParams.get('acr_values')).toBe('phr');
    expect((await createAuthorizationRequest(base)).url.searchParams.has('acr_values')).toBe(false);
    await expect(createAuthorizationRequest({ ...base, acrValues: ['a b'] })).rejects.toThrow(TypeError);
    await expect(createAuthorizationRequest({ ...base, extraParameters: { acr_values: 'phr' } })).rejects.toThrow(
      TypeError,
    );
  });

  it("keeps the endpoint's own query parameters (RFC 6749 §3.1)", async () => {
    const request = await createAuthorizationRequest({
      ...base,
      authorizationEndpoint: 'http://idp.localhost:4000/authorize?tenant=a',
    });
    expect(request.url.searchParams.get('tenant')).toBe('a');
  });

  it('refuses extra parameters that would replace its own', async () => {
    await expect(
      createAuthorizationRequest({ ...base, extraParameters: { code_challenge_method: 'plain' } }),
    ).rejects.toThrow(TypeError);
  });

  it('refuses a resource with a fragment', async () => {
    await expect(createAuthorizationRequest({ ...base, resource: 'http://api.localhost/#x' })).rejects.toThrow(
      TypeError,
    );
  });

  it('refuses an empty scope', async () => {
    await expect(createAuthorizationRequest({ ...base, scope: '' })).rejects.toThrow(TypeError);
  });
});
