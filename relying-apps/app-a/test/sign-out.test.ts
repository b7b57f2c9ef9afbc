import { describe, expect, it } from 'vitest';
import { formValue } from '@tessera/shared/testing';
import { me, sessionCookie, signIn, useAppA } from './support/world.js';

const world = useAppA();

/** A sign-out form post, from the app's own origin unless `headers` say otherwise. */
const form = (fields: Record<string, string>, headers: Record<string, string> = { origin: world.app }) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields),
});

/** Signs in a new browser and posts its sign-out form, with its own CSRF token, with these headers. */
async function signOutWith(headers: Record<string, string>) {
  const { jar, page } = await signIn(world);
  const csrf = formValue(await page.text(), 'csrf_token')!;
  return { jar, res: await jar.fetch(`${world.app}/logout`, form({ csrf_token: csrf }, headers)) };
}

describe('sign-out (RP-Initiated Logout)', () => {
  it('ends the local session and sends the browser to the end-session endpoint with the ID token hint', async () => {
    const { jar, page } = await signIn(world);
    const session = (await world.sessions.find(sessionCookie(world, jar)!))!;
    const csrf = formValue(await page.text(), 'csrf_token')!;

    const res = await jar.fetch(`${world.app}/logout`, form({ csrf_token: csrf }));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(`${world.idp}/logout`);
    expect(location.searchParams.get('id_token_hint')).toBe(session.idToken);
    expect(location.searchParams.get('client_id')).toBe('app-a');
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${world.app}/`);
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await me(world, jar)).status).toBe(401);
  });

  it('comes back from the issuer to app A signed out, and the issuer session has ended too', async () => {
    const { jar, page } = await signIn(world);
    const res = await jar.fetch(
      `${world.app}/logout`,
      form({ csrf_token: formValue(await page.text(), 'csrf_token')! }),
    );
    const back = await jar.follow(res.headers.get('location')!);
    expect(back.responses[0]!.status).toBe(303);
    const returned = new URL(back.responses[0]!.headers.get('location')!);
    expect(returned.origin + returned.pathname).toBe(`${world.app}/`);
    expect(back.last.status).toBe(200);
    const body = await back.last.text();
    expect(body).toContain('You have signed out.');
    expect(body).toContain('<p id="status">Signed out</p>');
    // A new sign-in now needs the password: the SSO session is over.
    const again = await jar.follow(`${world.app}/login`, { stopWhen: (u) => u.pathname === '/sign-in' });
    expect(again.location?.origin).toBe(world.idp);
  });

  it('refuses a sign-out without the CSRF token and keeps the session', async () => {
    const { jar } = await signIn(world);
    const res = await jar.fetch(`${world.app}/logout`, form({}));
    expect(res.status).toBe(403);
    expect((await me(world, jar)).status).toBe(200);
  });

  it('refuses a sign-out posted from another origin, even with the token', async () => {
    const { jar, res } = await signOutWith({ origin: 'http://evil.localhost:4000' });
    expect(res.status).toBe(403);
    expect((await me(world, jar)).status).toBe(200);
  });

  it('accepts the form with Origin: null and Sec-Fetch-Site: same-origin (Referrer-Policy: no-referrer)', async () => {
    const { res } = await signOutWith({ origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
  });

  it('refuses Origin: null from another site (a sandboxed frame, a cross-site form)', async () => {
    const { jar, res } = await signOutWith({ origin: 'null', 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(403);
    expect((await me(world, jar)).status).toBe(200);
  });

  it('refuses the CSRF token of another session', async () => {
    const mallory = await signIn(world);
    const victim = await signIn(world);
    const res = await victim.jar.fetch(
      `${world.app}/logout`,
      form({ csrf_token: formValue(await mallory.page.text(), 'csrf_token')! }),
    );
    expect(res.status).toBe(403);
  });
});
