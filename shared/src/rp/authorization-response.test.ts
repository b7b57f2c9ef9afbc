import { describe, expect, it } from 'vitest';
import { AuthorizationResponseError } from './errors.js';
import { validateAuthorizationResponse } from './authorization-response.js';

const ISSUER = 'http://idp.localhost:4000';
const STATE = 'af0ifjsldkj-state-value-of-43-characters-xx';
const expectations = { expectedState: STATE, expectedIssuer: ISSUER };
const callback = (params: Record<string, string>) =>
  `http://app-a.localhost:4001/callback?${new URLSearchParams(params)}`;

function refusal(run: () => unknown): AuthorizationResponseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizationResponseError);
    return error as AuthorizationResponseError;
  }
  throw new Error('expected a refusal');
}

describe('validateAuthorizationResponse', () => {
  it('returns the code of a response with the expected state and iss', () => {
    expect(
      validateAuthorizationResponse(
        callback({ code: 'SplxlOBeZQQYbYS6WxSbIA', state: STATE, iss: ISSUER }),
        expectations,
      ),
    ).toBe('SplxlOBeZQQYbYS6WxSbIA');
  });

  it('rejects a response whose state differs (CSRF)', () => {
    expect(
      refusal(() => validateAuthorizationResponse(callback({ code: 'c', state: 'other', iss: ISSUER }), expectations))
        .code,
    ).toBe('ERR_AUTHZ_STATE');
  });

  it('rejects a response without state', () => {
    expect(refusal(() => validateAuthorizationResponse(callback({ code: 'c', iss: ISSUER }), expectations)).code).toBe(
      'ERR_AUTHZ_STATE',
    );
  });

  it('rejects a response from another issuer (RFC 9207 mix-up)', () => {
    expect(
      refusal(() =>
        validateAuthorizationResponse(
          callback({ code: 'c', state: STATE, iss: 'http://evil.localhost' }),
          expectations,
        ),
      ).code,
    ).toBe('ERR_AUTHZ_ISSUER');
  });

  it('rejects an iss that differs only by a trailing slash (no normalization, RFC 9207 §2.4)', () => {
    expect(
      refusal(() =>
        validateAuthorizationResponse(callback({ code: 'c', state: STATE, iss: `${ISSUER}/` }), expectations),
      ).code,
    ).toBe('ERR_AUTHZ_ISSUER');
  });

  it('rejects a response without iss', () => {
    expect(refusal(() => validateAuthorizationResponse(callback({ code: 'c', state: STATE }), expectations)).code).toBe(
      'ERR_AUTHZ_ISSUER',
    );
  });

  it('accepts a response without iss when the issuer does not send it', () => {
    expect(
      validateAuthorizationResponse(callback({ code: 'c', state: STATE }), { ...expectations, requireIssuer: false }),
    ).toBe('c');
  });

  it('surfaces an error response as ERR_AUTHZ_ERROR_RESPONSE with the OAuth error', () => {
    const error = refusal(() =>
      validateAuthorizationResponse(
        callback({ error: 'access_denied', error_description: 'User said no', state: STATE, iss: ISSUER }),
        expectations,
      ),
    );
    expect(error.code).toBe('ERR_AUTHZ_ERROR_RESPONSE');
    expect(error.error).toBe('access_denied');
    expect(error.errorDescription).toBe('User said no');
  });

  it('rejects an error response with a wrong state as a state mismatch', () => {
    expect(
      refusal(() =>
        validateAuthorizationResponse(callback({ error: 'access_denied', state: 'x', iss: ISSUER }), expectations),
      ).code,
    ).toBe('ERR_AUTHZ_STATE');
  });

  it('rejects a repeated parameter (RFC 6749 §3.1)', () => {
    const url = `${callback({ code: 'c', state: STATE, iss: ISSUER })}&code=d`;
    expect(refusal(() => validateAuthorizationResponse(url, expectations)).code).toBe('ERR_AUTHZ_MALFORMED');
  });

  it('rejects a response without code', () => {
    expect(
      refusal(() => validateAuthorizationResponse(callback({ state: STATE, iss: ISSUER }), expectations)).code,
    ).toBe('ERR_AUTHZ_MALFORMED');
  });
});
