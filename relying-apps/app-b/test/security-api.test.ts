import { describe, expect, it } from 'vitest';
import { ACR_MFA, parseStepUpChallenge } from '@tessera/shared';
import { decodeJwt } from 'jose';
import { addSecondFactorAtIssuer } from '../../../idp/test/support/relying-party.js';
import { DPOP_ALGS, DPOP_CHALLENGE, callAppBApi, callMe, signInToAppB, useAppB } from './support/world.js';

const world = useAppB();

/** GET /api/security as app B's own code calls its API: its tokens are DPoP-bound. */
const callSecurity = (accessToken?: string) => callAppBApi(world.app, accessToken, '/api/security');

describe('GET /api/security (needs a second factor, RFC 9470)', () => {
  it('asks a password-only token to step up, while the rest of the API takes it', async () => {
    const { accessToken } = await signInToAppB(world);
    expect((await callMe(world, accessToken)).status).toBe(200);

    const res = await callSecurity(accessToken);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'DPoP error="insufficient_user_authentication", ' +
        `error_description="A stronger authentication is required", acr_values="${ACR_MFA}", ${DPOP_ALGS}`,
    );
    expect(await res.json()).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'A stronger authentication is required',
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(parseStepUpChallenge(res.headers.get('www-authenticate'))?.acrValues).toEqual([ACR_MFA]);
  });

  it('answers how the person signed in once the token states a second factor', async () => {
    const { jar } = await signInToAppB(world);
    await addSecondFactorAtIssuer(world.issuer, world.idp, jar);
    // A new token from the stronger session, by single sign-on: no password asked.
    const { accessToken } = await signInToAppB(world, jar);
    const res = await callSecurity(accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      sub: world.alice.sub,
      acr: ACR_MFA,
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: decodeJwt(accessToken).auth_time,
      client_id: 'app-b',
    });
  });

  it('answers 401 without a token, as the rest of the API', async () => {
    const res = await callSecurity();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer, ${DPOP_CHALLENGE}`);
    expect(await res.json()).toEqual({ error: 'unauthenticated' });
  });

  it('refuses a bad token as invalid_token before looking at how the person signed in', async () => {
    const res = await callSecurity('not.a.token');
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_token');
  });
});
