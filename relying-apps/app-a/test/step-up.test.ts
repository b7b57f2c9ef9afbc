/**
 * App A's security settings page, which needs a second factor while its home page does not, with a
 * real issuer and a real app B: a weaker session is sent back to the issuer with `acr_values`
 * (OIDC Core §3.1.2.1), and the callback checks the `acr` it gets (§3.1.3.7 step 12) — a request
 * whose `acr_values` were dropped on the way comes back weaker and is refused, the session as it was.
 */
import { ACR_MFA, type NewSession } from '@tessera/shared';
import { describe, expect, it } from 'vitest';
import { addSecondFactorAtIssuer, useWorld } from '../../../idp/test/support/relying-party.js';
import { startWorldWithAppB } from './support/with-app-b.js';
import { sessionCookie, signIn, textOf } from './support/world.js';

describe("app A's security settings page (step-up)", () => {
  const world = useWorld(() => startWorldWithAppB());

  const authorizeUrl = (response: Response): URL => {
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(`${world.idp}/authorize`);
    return location;
  };

  it('sends a password-only session to the issuer for a second factor, while the home page stays open', async () => {
    const { jar, page } = await signIn(world);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<a id="security" href="/security">');

    const location = authorizeUrl(await jar.fetch(`${world.app}/security`));
    expect(location.searchParams.get('acr_values')).toBe(ACR_MFA);
    expect(location.searchParams.get('client_id')).toBe('app-a');
    expect(location.searchParams.get('redirect_uri')).toBe(`${world.app}/callback`);
    expect(jar.cookie(world.app, 'app_a_login')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const home = await jar.fetch(`${world.app}/`);
    expect(home.status).toBe(200);
    expect(textOf(await home.text(), 'status')).toBe('Signed in as Alice Liddell (alice@example.com)');
  });

  it('lets the person in once the issuer session has a second factor, landing back on the page', async () => {
    const { jar } = await signIn(world);
    const before = sessionCookie(world, jar)!;
    await addSecondFactorAtIssuer(world.issuer, world.idp, jar);

    const { responses, last } = await jar.follow(`${world.app}/security`);
    // App A → the issuer, which answers from its session (no password asked) → the callback → here.
    expect(responses.some((r) => r.url.startsWith(`${world.idp}/sign-in`))).toBe(false);
    expect(responses.at(-2)?.url).toMatch(new RegExp(`^${world.app}/callback\\?`));
    expect(last.url).toBe(`${world.app}/security`);
    expect(last.status).toBe(200);
    const text = await last.text();
    expect(textOf(text, 'security-status')).toBe('You signed in with a second factor, as this page needs.');
    expect(textOf(text, 'acr')).toBe('Two factors');
    expect(textOf(text, 'amr')).toBe('pwd, otp, mfa');
    // App B's step-up API let app A's exchanged token through: it carried the second factor too.
    expect(textOf(text, 'app-b-acr')).toBe('Two factors');
    expect(textOf(text, 'app-b-amr')).toBe('pwd, otp, mfa');

    // A new app A session, opened from the stronger sign-in; the password-only one is gone.
    const after = sessionCookie(world, jar)!;
    expect(after).not.toBe(before);
    expect(await world.sessions.find(before)).toBeUndefined();
    expect(await world.sessions.find(after)).toMatchObject({ acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
    // Asked once: the page now opens at once.
    const again = await jar.fetch(`${world.app}/security`);
    expect(again.status).toBe(200);
  });

  it('sends a visitor to sign in with a second factor at once', async () => {
    const location = authorizeUrl(await fetch(`${world.app}/security`, { redirect: 'manual' }));
    expect(location.searchParams.get('acr_values')).toBe(ACR_MFA);
  });

  it('refuses a sign-in weaker than asked for (acr_values dropped on the way), the session kept', async () => {
    const { jar } = await signIn(world);
    const before = sessionCookie(world, jar)!;
    const session = await world.sessions.find(before);
    expect(session?.acr).not.toBe(ACR_MFA);

    // acr_values travel through the browser: anyone on the way can drop them, and the issuer then
    // answers as for a plain sign-in (here from its SSO session, no password asked).
    const stripped = authorizeUrl(await jar.fetch(`${world.app}/security`));
    stripped.searchParams.delete('acr_values');
    const { last } = await jar.follow(stripped);
    expect(last.url).toMatch(new RegExp(`^${world.app}/callback\\?`));
    expect(last.status).toBe(403);
    const text = await last.text();
    expect(text).toContain('<h1>Stronger sign-in needed</h1>');
    expect(text).toContain('<code>unmet_authentication_requirements</code>');

    expect(sessionCookie(world, jar)).toBe(before);
    expect(await world.sessions.find(before)).toEqual(session);
    // The transaction was used up: the same answer cannot be tried again.
    expect(jar.cookie(world.app, 'app_a_login')).toBeUndefined();
  });

  it('does not loop when app B asks for a sign-in the session already has: it says so instead', async () => {
    const { jar } = await signIn(world);
    const signedIn = (await world.sessions.find(sessionCookie(world, jar)!))!;
    // An ID token that stated a second factor while the access token did not: app B, reading the
    // access token, asks for the step-up the session already made.
    const { csrfToken: _, createdAt: __, expiresAt: ___, ...kept } = signedIn;
    const claimed: NewSession = { ...kept, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] };
    jar.setCookie(world.app, 'app_a_session', await world.sessions.create(claimed));

    const res = await jar.fetch(`${world.app}/security`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(textOf(text, 'acr')).toBe('Two factors');
    expect(textOf(text, 'app-b-error')).toBe('insufficient_user_authentication');
  });
});
