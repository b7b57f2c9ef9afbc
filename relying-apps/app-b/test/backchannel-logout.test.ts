import { describe, expect, it } from 'vitest';
import { createRemoteKeySet, verifyAccessToken } from '@tessera/shared';
import { DPOP_ALGS, callMe, eventually, signInToAppB, type SignedIn, useAppB } from './support/world.js';
import {
  expectBackchannelRefused,
  issuerLogoutToken,
  itRefusesReplayedAndMalformedLogoutRequests,
  postBackchannelLogout,
} from '../../../idp/test/support/relying-party.js';

const world = useAppB();

/** The person signs out at the issuer (from this browser), with the ID token as hint. */
async function endIssuerSession({ jar, idToken }: SignedIn): Promise<void> {
  const res = await jar.fetch(`${world.idp}/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
  expect(res.status).toBe(200);
}

/** A logout token signed with the issuer's own key, for app-b. */
const logoutToken = (claims: Record<string, unknown>) => issuerLogoutToken(world, 'app-b', claims);

const post = (body: URLSearchParams | string, contentType?: string) =>
  postBackchannelLogout(world.app, body, contentType);

const sidOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sid;

const expectRefused = expectBackchannelRefused;

describe('back-channel logout reaches the stateless API', () => {
  it('refuses a still-unexpired access token once the issuer has reported its session ended', async () => {
    const signedIn = await signInToAppB(world);
    expect((await callMe(world, signedIn.accessToken)).status).toBe(200);

    await endIssuerSession(signedIn);
    await eventually(async () => (await callMe(world, signedIn.accessToken)).status === 401);
    const res = await callMe(world, signedIn.accessToken);
    expect(res.headers.get('www-authenticate')).toBe(
      `DPoP error="invalid_token", error_description="The access token was revoked", ${DPOP_ALGS}`,
    );

    // Not expiry: the token itself still verifies; only the revocation refuses it.
    const keySet = createRemoteKeySet(`${world.idp}/jwks`);
    await expect(
      verifyAccessToken(signedIn.accessToken, { issuer: world.idp, audience: world.app, keySet }),
    ).resolves.toBeDefined();
  });

  it('keeps accepting the tokens of other sessions', async () => {
    const ended = await signInToAppB(world);
    const other = await signInToAppB(world); // another browser, another issuer session
    await endIssuerSession(ended);
    await eventually(async () => (await callMe(world, ended.accessToken)).status === 401);
    expect((await callMe(world, other.accessToken)).status).toBe(200);
  });

  it('answers 200 with Cache-Control: no-store to a valid logout token', async () => {
    const { accessToken } = await signInToAppB(world);
    const res = await post(
      new URLSearchParams({ logout_token: await logoutToken({ sid: sidOf(accessToken), sub: world.alice.sub }) }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await callMe(world, accessToken)).status).toBe(401);
  });

  it('with sub and no sid, refuses the tokens the person had, but not those of a later sign-in', async () => {
    const before = await signInToAppB(world);
    expect(
      (await post(new URLSearchParams({ logout_token: await logoutToken({ sub: world.alice.sub }) }))).status,
    ).toBe(200);
    expect((await callMe(world, before.accessToken)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // iat has one-second resolution
    const after = await signInToAppB(world);
    expect((await callMe(world, after.accessToken)).status).toBe(200);
  });

  it('refuses a token that is not a JWT with 400 invalid_request', async () => {
    await expectRefused(await post(new URLSearchParams({ logout_token: 'not-a-token' })));
  });

  it('refuses an access token presented as a logout token, and revokes nothing', async () => {
    const { accessToken } = await signInToAppB(world);
    await expectRefused(await post(new URLSearchParams({ logout_token: accessToken })));
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  it('refuses a logout token meant for another client', async () => {
    const { accessToken } = await signInToAppB(world);
    await expectRefused(
      await post(new URLSearchParams({ logout_token: await logoutToken({ sid: sidOf(accessToken), aud: 'app-a' }) })),
    );
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  itRefusesReplayedAndMalformedLogoutRequests(world, 'app-b');
});
