/**
 * App A keeps its state in its database (APP_A_DATABASE), on SQLite and on PostgreSQL: a restart
 * keeps people signed in, lets a sign-in begun before it finish after it, and still refuses a
 * replayed logout token. App A runs as main.ts runs it (openApp), behind real HTTP, with a real
 * issuer; "restart" closes its database and opens a new app on the same one, nothing kept in memory.
 */
import { createCookieJarClient } from '@tessera/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, stopEngines } from '../../../shared/test/support/engines.js';
import { PASSWORD } from '../../../idp/test/support/fixture.js';
import { submitSignIn } from '../../../idp/test/support/browser.js';
import {
  expectBackchannelRefused,
  issuerLogoutToken,
  postBackchannelLogout,
} from '../../../idp/test/support/relying-party.js';
import { me, sessionCookie, signIn, startWorldOnDatabase, type WorldOnDatabase } from './support/world.js';

afterAll(stopEngines);

describe.each(engines)('app A on $name across a restart', (engine) => {
  const world = {} as WorldOnDatabase;
  beforeAll(async () => {
    Object.assign(world, await startWorldOnDatabase(await engine.fresh()));
  });
  afterAll(() => world.stop?.());

  it('keeps a signed-in person signed in, with the same session', async () => {
    const { jar } = await signIn(world);
    const before = await me(world, jar);
    expect(before).toMatchObject({ status: 200, body: { sub: world.alice.sub } });
    const cookie = sessionCookie(world, jar);

    await world.restart();

    expect(await me(world, jar)).toEqual(before);
    expect(sessionCookie(world, jar)).toBe(cookie);
    // …and the page a browser sees, with the sign-out form its session's CSRF token goes in.
    const home = await jar.fetch(`${world.app}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(world.alice.name);
  });

  it('finishes after a restart a sign-in begun before it (its login transaction is kept)', async () => {
    const jar = createCookieJarClient();
    const start = await jar.follow(`${world.app}/login`, {
      stopWhen: (u) => u.origin === world.idp && u.pathname === '/sign-in',
    });
    expect(start.location).toBeDefined();

    await world.restart();

    const signedIn = await submitSignIn(jar, world.idp, start.location!, world.alice.email, PASSWORD);
    const back = await jar.follow(new URL(signedIn.headers.get('location')!, world.idp));
    expect(back.last.status).toBe(200);
    expect(await me(world, jar)).toMatchObject({ status: 200, body: { sub: world.alice.sub } });
  });

  it('ends after a restart a session opened before it, and refuses the logout token again', async () => {
    const { jar } = await signIn(world);
    const { body } = await me(world, jar);
    const token = await issuerLogoutToken(world, 'app-a', { sid: body.sid, sub: body.sub });

    await world.restart();
    const logout = () => postBackchannelLogout(world.app, new URLSearchParams({ logout_token: token }));
    expect((await logout()).status).toBe(200);
    expect((await me(world, jar)).status).toBe(401);

    await world.restart();
    await expectBackchannelRefused(await logout()); // OIDC Back-Channel Logout 1.0 §2.6: the jti was used
    expect((await me(world, jar)).status).toBe(401);
  });
});
