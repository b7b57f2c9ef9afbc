import { describe, expect, it } from 'vitest';
import type { CookieJarClient } from '@tessera/shared/testing';
import { eventually, me, sessionCookie, signIn, useAppA } from './support/world.js';
import {
  expectBackchannelRefused,
  issuerLogoutToken,
  itRefusesReplayedAndMalformedLogoutRequests,
  postBackchannelLogout,
} from '../../../idp/test/support/relying-party.js';

const world = useAppA();

/** What app A's server keeps for the session in this jar. */
async function serverSession(jar: CookieJarClient) {
  return (await world.sessions.find(sessionCookie(world, jar)!))!;
}

/** The person signs out at the issuer itself (as from another app): its /logout with an ID token hint. */
async function endIssuerSession(jar: CookieJarClient): Promise<void> {
  const { idToken } = await serverSession(jar);
  const res = await jar.fetch(`${world.idp}/logout?${new URLSearchParams({ id_token_hint: idToken })}`);
  expect(res.status).toBe(200);
}

/** A logout token signed with the issuer's own key, for app-a. */
const logoutToken = (claims: Record<string, unknown>) => issuerLogoutToken(world, 'app-a', claims);

const post = (body: URLSearchParams | string, contentType?: string) =>
  postBackchannelLogout(world.app, body, contentType);

const expectRefused = expectBackchannelRefused;

describe('back-channel logout (OIDC Back-Channel Logout 1.0)', () => {
  it('ends app A’s session when the issuer session ends: the issuer sends the logout token over HTTP', async () => {
    const { jar } = await signIn(world);
    expect((await me(world, jar)).status).toBe(200);
    await endIssuerSession(jar);
    await eventually(async () => (await me(world, jar)).status === 401);
    const [delivered] = (await world.issuer.issuer.ctx.store.database.query(
      "select count(*) as n from backchannel_deliveries where client_id = 'app-a' and delivered_at is not null",
    )) as { n: number }[];
    expect(delivered!.n).toBeGreaterThanOrEqual(1);
  });

  it('ends only the sessions of the issuer session named by sid', async () => {
    const a = await signIn(world);
    const b = await signIn(world); // another browser: another issuer session
    await endIssuerSession(a.jar);
    await eventually(async () => (await me(world, a.jar)).status === 401);
    expect((await me(world, b.jar)).status).toBe(200);
  });

  it('answers 200 with Cache-Control: no-store to a valid logout token', async () => {
    const { jar } = await signIn(world);
    const { sid, sub } = await serverSession(jar);
    const res = await post(new URLSearchParams({ logout_token: await logoutToken({ sid, sub }) }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await me(world, jar)).status).toBe(401);
  });

  it('ends every session of the person for a logout token with sub and no sid', async () => {
    const a = await signIn(world);
    const b = await signIn(world);
    const res = await post(new URLSearchParams({ logout_token: await logoutToken({ sub: world.alice.sub }) }));
    expect(res.status).toBe(200);
    expect((await me(world, a.jar)).status).toBe(401);
    expect((await me(world, b.jar)).status).toBe(401);
  });

  it('refuses a token that is not a JWT with 400 invalid_request', async () => {
    await expectRefused(await post(new URLSearchParams({ logout_token: 'not-a-token' })));
  });

  it('refuses an ID token presented as a logout token, and keeps the session', async () => {
    const { jar } = await signIn(world);
    const { idToken } = await serverSession(jar);
    await expectRefused(await post(new URLSearchParams({ logout_token: idToken })));
    expect((await me(world, jar)).status).toBe(200);
  });

  it('refuses a logout token meant for another client', async () => {
    const { jar } = await signIn(world);
    const { sid } = await serverSession(jar);
    await expectRefused(await post(new URLSearchParams({ logout_token: await logoutToken({ sid, aud: 'app-b' }) })));
    expect((await me(world, jar)).status).toBe(200);
  });

  itRefusesReplayedAndMalformedLogoutRequests(world, 'app-a');
});
