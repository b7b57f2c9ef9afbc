/**
 * App B keeps the sessions the issuer ended in its database (APP_B_DATABASE), on SQLite and on
 * PostgreSQL: after a restart, the API still refuses the access tokens of a session a back-channel
 * logout ended, and the logout token cannot be replayed. App B runs as main.ts runs it (openApp),
 * behind real HTTP, with a real issuer that delivers the logout itself; the status-list check is
 * off, so the remembered logout is the only thing that can refuse the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, stopEngines } from '../../../shared/test/support/engines.js';
import {
  expectBackchannelRefused,
  issuerLogoutToken,
  postBackchannelLogout,
} from '../../../idp/test/support/relying-party.js';
import {
  DPOP_ALGS,
  callMe,
  eventually,
  signInToAppB,
  startWorldOnDatabase,
  type WorldOnDatabase,
} from './support/world.js';

afterAll(stopEngines);

// App B's tokens are DPoP-bound: refused under the DPoP scheme (RFC 9449 §7.1).
const REVOKED = `DPoP error="invalid_token", error_description="The access token was revoked", ${DPOP_ALGS}`;

describe.each(engines)('app B on $name across a restart', (engine) => {
  const world = {} as WorldOnDatabase;
  beforeAll(async () => {
    Object.assign(world, await startWorldOnDatabase(await engine.fresh(), { appEnv: { APP_B_STATUS_LIST: 'off' } }));
  });
  afterAll(() => world.stop?.());

  it('still refuses the access token of a session the issuer ended before the restart', async () => {
    const ended = await signInToAppB(world);
    const other = await signInToAppB(world);
    expect((await callMe(world, ended.accessToken)).status).toBe(200);

    // The person signs out at the issuer, which tells app B over the back channel.
    const res = await ended.jar.fetch(`${world.idp}/logout?${new URLSearchParams({ id_token_hint: ended.idToken })}`);
    expect(res.status).toBe(200);
    await eventually(async () => (await callMe(world, ended.accessToken)).status === 401);

    await world.restart();

    const refused = await callMe(world, ended.accessToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(REVOKED);
    expect((await callMe(world, other.accessToken)).status).toBe(200);
  });

  it('still refuses after a restart a subject’s tokens logged out without sid, and the replayed token', async () => {
    const signedIn = await signInToAppB(world);
    const token = await issuerLogoutToken(world, 'app-b', { sub: world.alice.sub });
    const logout = () => postBackchannelLogout(world.app, new URLSearchParams({ logout_token: token }));
    expect((await logout()).status).toBe(200);

    await world.restart();

    expect((await callMe(world, signedIn.accessToken)).headers.get('www-authenticate')).toBe(REVOKED);
    await expectBackchannelRefused(await logout()); // OIDC Back-Channel Logout 1.0 §2.6: the jti was used
  });
});
