/**
 * App A calling app B's API for the signed-in person (RFC 8693 token exchange), with a real issuer
 * and a real app B: one sign-in, two APIs on two sites, no token sent outside its audience; an
 * expired, revoked or unregistered exchange, or app B down, is said on the page, never a 500.
 */
import type { createCookieJarClient } from '@tessera/shared/testing';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../../../idp/test/support/relying-party.js';
import { startWorldWithAppB, type WorldWithAppB } from './support/with-app-b.js';
import { sessionCookie, signIn, textOf } from './support/world.js';

async function home(world: WorldWithAppB, jar: ReturnType<typeof createCookieJarClient>) {
  const res = await jar.fetch(`${world.app}/`);
  return { status: res.status, page: await res.text() };
}

describe('app A shows what app B’s API returns for the person', () => {
  const world = useWorld(() => startWorldWithAppB());

  it('after one sign-in: app B sees the person, and app A acting (act), through an exchanged token', async () => {
    const { jar, page } = await signIn(world);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(textOf(text, 'status')).toBe('Signed in as Alice Liddell (alice@example.com)');
    expect(textOf(text, 'app-b-sub')).toBe(world.alice.sub);
    expect(textOf(text, 'app-b-person')).toBe('Alice Liddell (alice@example.com)');
    expect(textOf(text, 'app-b-client')).toBe('app-a');
    expect(textOf(text, 'app-b-act')).toBe('app-a');
    // Asked again at every visit, not remembered from the first.
    expect(textOf((await home(world, jar)).page, 'app-b-act')).toBe('app-a');
  });

  it('keeps the person’s access token server-side, for app A alone: app B refuses it (401 invalid_token)', async () => {
    const { jar } = await signIn(world);
    const session = await world.sessions.find(sessionCookie(world, jar)!);
    const accessToken = session!.accessToken!;
    const claims = decodeJwt(accessToken);
    expect(claims.aud).toContain(world.app);
    expect(claims.aud).not.toContain(world.appB);
    expect(session!.accessTokenExpiresAt).toBe(claims.exp! * 1000);

    const res = await fetch(`${world.appB}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('once the access token has expired, says so and renews it with a sign-in that asks no password', async () => {
    const { jar } = await signIn(world);
    world.clock.advance(5 * 60 + 1); // the issuer's access token lifetime (5 minutes), past
    try {
      const expired = await home(world, jar);
      expect(expired.status).toBe(200);
      expect(textOf(expired.page, 'status')).toMatch(/^Signed in as Alice Liddell/);
      expect(expired.page).toContain('id="app-b-sign-in" href="/login"');
      expect(textOf(expired.page, 'app-b-status')).toMatch(/^App A's access for you has expired/);
      expect(textOf(expired.page, 'app-b-act')).toBeUndefined();

      // The issuer's SSO session is still on: no sign-in form on the way, and app B answers again.
      const renewed = await jar.follow(`${world.app}/login`);
      expect(renewed.responses.some((r) => new URL(r.url).pathname === '/sign-in')).toBe(false);
      expect(renewed.last.status).toBe(200);
      expect(textOf(await renewed.last.text(), 'app-b-act')).toBe('app-a');
    } finally {
      world.clock.advance(-(5 * 60 + 1));
    }
  });

  it('says the issuer no longer accepts the token when it was revoked, with a way to sign in again', async () => {
    const { jar } = await signIn(world);
    const session = await world.sessions.find(sessionCookie(world, jar)!);
    const revoked = await fetch(`${world.idp}/revoke`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`app-a:${world.config.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: session!.accessToken!, token_type_hint: 'access_token' }),
    });
    expect(revoked.status).toBe(200);

    const { status, page } = await home(world, jar);
    expect(status).toBe(200);
    expect(textOf(page, 'app-b-error')).toBe('invalid_request');
    expect(textOf(page, 'app-b-status')).toMatch(/no longer accepts App A's access for you/);
    expect(page).toContain('id="app-b-sign-in" href="/login"');
  });

  it('says app B cannot be reached when it is down, and still shows who is signed in', async () => {
    const { jar } = await signIn(world);
    await world.stopAppB();
    const { status, page } = await home(world, jar);
    expect(status).toBe(200);
    expect(textOf(page, 'status')).toMatch(/^Signed in as Alice Liddell/);
    expect(textOf(page, 'app-b-error')).toBe('temporarily_unavailable');
    expect(textOf(page, 'app-b-status')).toBe("App B's API cannot be reached right now. Please try again shortly.");
  });
});

describe.each([
  { exchangeFor: 'nothing', error: 'unauthorized_client' },
  { exchangeFor: 'another-api', error: 'invalid_target' },
] as const)('app A registered to exchange tokens for $exchangeFor, not app B’s API', ({ exchangeFor, error }) => {
  const world = useWorld(() => startWorldWithAppB({ exchangeFor }));

  it(`shows the issuer’s ${error} refusal on the page, not a 500`, async () => {
    const { page } = await signIn(world);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(textOf(text, 'status')).toMatch(/^Signed in as Alice Liddell/);
    expect(textOf(text, 'app-b-error')).toBe(error);
    expect(textOf(text, 'app-b-status')).toMatch(/App A is not registered for it/);
    expect(textOf(text, 'app-b-act')).toBeUndefined();
  });
});
