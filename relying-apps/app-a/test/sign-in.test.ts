import { describe, expect, it } from 'vitest';
import { createCookieJarClient } from '@tessera/shared/testing';
import { me, sessionCookie, signIn, useAppA } from './support/world.js';
import { expectPageSecurityHeaders } from '../../../idp/test/support/pages.js';

const world = useAppA();

describe('sign-in through the issuer', () => {
  it('sends the browser to the issuer: PKCE S256, state, nonce, the three scopes, app A as the resource', async () => {
    const res = await createCookieJarClient().fetch(`${world.app}/login`);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(`${world.idp}/authorize`);
    const params = location.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('client_id')).toBe('app-a');
    expect(params.get('redirect_uri')).toBe(`${world.app}/callback`);
    expect(params.get('scope')).toBe('openid profile email');
    expect(params.get('resource')).toBe(world.app);
    expect(params.get('code_challenge_method')).toBe('S256');
    for (const name of ['state', 'nonce', 'code_challenge']) expect(params.get(name)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The transaction is server-side; the browser holds only its key, out of reach of scripts.
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('app_a_login='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toContain(params.get('state')!);
  });

  it('signs alice in and shows her name and email on /', async () => {
    const { page } = await signIn(world);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<p id="status">Signed in as Alice Liddell (alice@example.com)</p>');
    expect(body).toContain('id="sign-out"');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('sets an opaque HttpOnly, SameSite=Lax session cookie at the callback', async () => {
    const { hops, jar } = await signIn(world);
    const callback = hops.find((r) => r.headers.get('location') === '/')!;
    const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('app_a_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(sessionCookie(world, jar)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers /api/me with the session as JSON', async () => {
    const { jar } = await signIn(world);
    const { status, body } = await me(world, jar);
    expect(status).toBe(200);
    expect(body).toEqual({
      sub: world.alice.sub,
      email: 'alice@example.com',
      name: 'Alice Liddell',
      sid: expect.any(String),
    });
  });

  it('answers /api/me with 401 JSON when signed out', async () => {
    const res = await fetch(`${world.app}/api/me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthenticated' });
  });

  it('answers /api/me with 401 for a made-up session cookie', async () => {
    const res = await fetch(`${world.app}/api/me`, {
      headers: { cookie: 'app_a_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(res.status).toBe(401);
  });

  it('signs in again without a password while the issuer session lives (SSO), under a new session id', async () => {
    const { jar } = await signIn(world);
    const first = sessionCookie(world, jar);
    const again = await signIn(world, jar);
    expect(again.hops.some((r) => r.url?.includes('/sign-in'))).toBe(false);
    expect(await again.page.text()).toContain('Signed in as Alice Liddell');
    const second = sessionCookie(world, jar);
    expect(second).not.toBe(first);
    // The replaced session is gone, not merely forgotten by this browser.
    expect(await world.sessions.find(first!)).toBeUndefined();
  });

  it('shows the signed-out page with a sign-in link to a visitor', async () => {
    const res = await fetch(`${world.app}/`);
    const body = await res.text();
    expect(body).toContain('<p id="status">Signed out</p>');
    expect(body).toContain('<a id="sign-in" class="button" href="/login">Sign in</a>');
  });

  it('sends the security headers on pages', async () => {
    expectPageSecurityHeaders(await fetch(`${world.app}/`));
  });
});
