import { describe, expect, it } from 'vitest';
import type { ProviderMetadata } from '../protocol.js';
import {
  createFedCmRequest,
  fedcmConfigUrl,
  fedcmFailureReason,
  identityCredentialToken,
  type FedCmRequestOptions,
} from './fedcm.js';
import { computeCodeChallenge } from './pkce.js';

const base: FedCmRequestOptions = { configUrl: 'http://idp.localhost:4000/fedcm/config.json', clientId: 'app-b' };

const metadata = (extra: Record<string, unknown>) =>
  ({ issuer: 'http://idp.localhost:4000', ...extra }) as unknown as ProviderMetadata;

describe('createFedCmRequest', () => {
  it('puts a fresh nonce and the S256 challenge of a fresh verifier in params', async () => {
    const request = await createFedCmRequest(base);
    expect(request.provider).toEqual({
      configURL: 'http://idp.localhost:4000/fedcm/config.json',
      clientId: 'app-b',
      params: {
        nonce: request.nonce,
        code_challenge: await computeCodeChallenge(request.codeVerifier),
        code_challenge_method: 'S256',
      },
    });
    for (const secret of [request.nonce, request.codeVerifier]) expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await createFedCmRequest(base);
    expect([other.nonce, other.codeVerifier]).not.toContain(request.nonce);
    expect(other.codeVerifier).not.toBe(request.codeVerifier);
  });

  it('sends scope (joined) and resource when given', async () => {
    const { provider } = await createFedCmRequest({
      ...base,
      scope: ['openid', 'profile', 'email'],
      resource: 'http://app-b.localhost:4002',
    });
    expect(provider.params).toMatchObject({ scope: 'openid profile email', resource: 'http://app-b.localhost:4002' });
    // params travels as one JSON form field: what the assertion endpoint parses.
    expect(JSON.parse(JSON.stringify(provider.params))).toEqual(provider.params);
  });

  it('refuses a config URL that is not http(s), a bad scope or a resource with a fragment', async () => {
    await expect(createFedCmRequest({ ...base, configUrl: 'javascript:alert(1)' })).rejects.toThrow(TypeError);
    await expect(createFedCmRequest({ ...base, clientId: '' })).rejects.toThrow(TypeError);
    await expect(createFedCmRequest({ ...base, scope: 'openid "x"' })).rejects.toThrow(TypeError);
    await expect(createFedCmRequest({ ...base, resource: 'http://api.localhost/#x' })).rejects.toThrow(TypeError);
    await expect(createFedCmRequest({ ...base, resource: 'relative' })).rejects.toThrow(TypeError);
  });
});

describe('fedcmConfigUrl', () => {
  it('reads fedcm_config_uri from discovery', () => {
    expect(fedcmConfigUrl(metadata({ fedcm_config_uri: 'http://idp.localhost:4000/fedcm/config.json' }))).toBe(
      'http://idp.localhost:4000/fedcm/config.json',
    );
  });

  it('is undefined for an issuer without FedCM, or a config elsewhere than the issuer', () => {
    expect(fedcmConfigUrl(metadata({}))).toBeUndefined();
    expect(fedcmConfigUrl(metadata({ fedcm_config_uri: 42 }))).toBeUndefined();
    expect(fedcmConfigUrl(metadata({ fedcm_config_uri: 'not a url' }))).toBeUndefined();
    expect(fedcmConfigUrl(metadata({ fedcm_config_uri: 'http://evil.localhost:4000/fedcm/config.json' }))).toBe(
      undefined,
    );
    expect(fedcmConfigUrl(metadata({ fedcm_config_uri: 'ftp://idp.localhost:4000/config.json' }))).toBeUndefined();
  });
});

describe('identityCredentialToken', () => {
  it('returns the token of an identity credential', () => {
    const token = 'Jc2bS8tqAjwOGVbvMUoVh4g6rnx4OjgnQK6cc5CrrrU';
    expect(identityCredentialToken({ type: 'identity', token, isAutoSelected: true })).toBe(token);
  });

  it('is undefined for nothing, another credential type or a token that is no code', () => {
    expect(identityCredentialToken(null)).toBeUndefined();
    expect(identityCredentialToken({ type: 'password', token: 'Jc2bS8tqAjwOGVbvMUoVh4g6rn' })).toBeUndefined();
    expect(identityCredentialToken({ type: 'identity', token: '<script>' })).toBeUndefined();
    expect(identityCredentialToken({ type: 'identity' })).toBeUndefined();
  });
});

describe('fedcmFailureReason', () => {
  it('prefers the identity provider’s error code, then the exception’s name', () => {
    expect(fedcmFailureReason({ name: 'IdentityCredentialError', code: 'login_required' })).toBe('login_required');
    expect(fedcmFailureReason(new DOMException('closed', 'NetworkError'))).toBe('NetworkError');
    expect(fedcmFailureReason({ name: 'x y', code: '<b>' })).toBe('unknown');
    expect(fedcmFailureReason(undefined)).toBe('unknown');
  });
});
