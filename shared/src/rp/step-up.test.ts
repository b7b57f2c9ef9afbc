import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { API, ISSUER, accessTokenClaims, createLocalIssuer, sign } from '../../test/support/issuer.js';
import { ACR_MFA, ACR_PASSWORD, ACR_PHISHING_RESISTANT } from '../authn/authentication-context.js';
import { requireBearer, type AccessTokenEnv } from '../hono/require-bearer.js';
import { requireUserAuthentication } from '../hono/step-up.js';
import { createAuthorizationRequest } from './authorization-request.js';
import { acrMeetsRequest, parseStepUpChallenge, stepUpRequestOptions } from './step-up.js';

describe('parseStepUpChallenge (RFC 9470 §3)', () => {
  it('reads acr_values, max_age and the description', () => {
    expect(
      parseStepUpChallenge(
        'Bearer error="insufficient_user_authentication", error_description="More is needed", ' +
          'acr_values="urn:tessera:acr:mfa phr", max_age="300"',
      ),
    ).toEqual({ acrValues: [ACR_MFA, ACR_PHISHING_RESISTANT], maxAgeSec: 300, description: 'More is needed' });
  });

  it('reads token values, any case of scheme and names, and unescapes quoted pairs', () => {
    expect(parseStepUpChallenge('bearer Error=insufficient_user_authentication,ACR_VALUES="a\\"b", max_age=5')).toEqual(
      { acrValues: ['a"b'], maxAgeSec: 5 },
    );
  });

  it('finds the Bearer challenge among others', () => {
    const header =
      'Basic realm="x", Newauth realm="apps", type=1, Bearer realm="api", ' +
      'error="insufficient_user_authentication", acr_values="phr"';
    expect(parseStepUpChallenge(header)).toEqual({ acrValues: ['phr'] });
  });

  it('reads the same challenge under the DPoP scheme (RFC 9449 §7.1)', () => {
    expect(
      parseStepUpChallenge('DPoP algs="ES256", error="insufficient_user_authentication", acr_values="phr"'),
    ).toEqual({ acrValues: ['phr'] });
  });

  it('sees no step-up in other errors, other schemes or no header', () => {
    for (const header of [
      null,
      undefined,
      '',
      'Bearer',
      'Bearer error="invalid_token", error_description="The access token expired"',
      'Bearer error="insufficient_scope", scope="email"',
      'DPoPx error="insufficient_user_authentication", acr_values="phr"',
      'Basic error="insufficient_user_authentication"',
    ]) {
      expect(parseStepUpChallenge(header)).toBeUndefined();
    }
  });

  it('refuses a challenge with a repeated parameter, and ignores a max_age that is not seconds', () => {
    expect(
      parseStepUpChallenge(
        'Bearer error="insufficient_user_authentication", acr_values="phr", acr_values="urn:tessera:acr:password"',
      ),
    ).toBeUndefined();
    expect(
      parseStepUpChallenge('Bearer error="insufficient_user_authentication", acr_values="phr", max_age="-1"'),
    ).toEqual({ acrValues: ['phr'] });
  });

  it('reads nothing from an oversized header', () => {
    const header = `Bearer error="insufficient_user_authentication", acr_values="${'a'.repeat(9000)}"`;
    expect(parseStepUpChallenge(header)).toBeUndefined();
  });

  it("reads the kit's own refusal, and the request built from it asks for the same", async () => {
    const { issuer, keySet } = await createLocalIssuer();
    const api = new Hono<AccessTokenEnv>();
    api.use('/api/*', requireBearer({ issuer: ISSUER, audience: API, keySet, realm: 'api' }));
    api.get('/api/security', requireUserAuthentication({ acr: ACR_MFA, maxAgeSec: 600, realm: 'api' }), (c) =>
      c.text('ok'),
    );
    const token = await sign(issuer.es256, accessTokenClaims({ acr: ACR_PASSWORD }), { typ: 'at+jwt' });
    const response = await api.request('/api/security', { headers: { Authorization: `Bearer ${token}` } });
    const challenge = parseStepUpChallenge(response.headers.get('www-authenticate'));
    expect(challenge).toEqual({
      acrValues: [ACR_MFA],
      maxAgeSec: 600,
      description: 'A stronger authentication is required',
    });

    const request = await createAuthorizationRequest({
      authorizationEndpoint: `${ISSUER}/authorize`,
      clientId: 'app-a',
      redirectUri: 'http://app-a.localhost:4001/callback',
      scope: 'openid',
      ...stepUpRequestOptions(challenge!),
    });
    expect(request.url.searchParams.get('acr_values')).toBe(ACR_MFA);
    expect(request.url.searchParams.get('max_age')).toBe('600');
  });
});

describe('stepUpRequestOptions', () => {
  it('leaves out what the challenge did not ask for', () => {
    expect(stepUpRequestOptions({ acrValues: [] })).toEqual({});
    expect(stepUpRequestOptions({ acrValues: ['phr'], maxAgeSec: 0 })).toEqual({ acrValues: ['phr'], maxAgeSec: 0 });
  });
});

describe('acrMeetsRequest', () => {
  it('accepts the class asked for or a stronger one', () => {
    expect(acrMeetsRequest(ACR_MFA, [ACR_MFA])).toBe(true);
    expect(acrMeetsRequest(ACR_PHISHING_RESISTANT, [ACR_MFA])).toBe(true);
    expect(acrMeetsRequest('urn:example:gold', ['urn:example:gold'])).toBe(true);
  });

  it('refuses a weaker, missing or unknown class', () => {
    expect(acrMeetsRequest(ACR_PASSWORD, [ACR_MFA])).toBe(false);
    expect(acrMeetsRequest(undefined, [ACR_MFA])).toBe(false);
    expect(acrMeetsRequest(['urn:tessera:acr:mfa'], [ACR_MFA])).toBe(false);
    expect(acrMeetsRequest('urn:example:gold', [ACR_MFA])).toBe(false);
  });

  it('has nothing to check when nothing was asked', () => {
    expect(acrMeetsRequest(undefined, [])).toBe(true);
  });
});
