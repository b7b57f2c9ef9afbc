/**
 * Refusals at the sign-in form: one generic message for any bad credentials (no account
 * enumeration), CSRF token and Origin checks, browser binding — and no session from any of them.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { PASSWORD, countRows, useIssuer } from './support/fixture.js';
import { authorizeQuery, getAuthorize, locationOf } from './support/browser.js';

const { idp, fx } = useIssuer();

/** Starts an authorization in a new browser and reads the sign-in form it leads to. */
async function openSignIn(): Promise<{ jar: CookieJarClient; interaction: string; csrfToken: string }> {
  const jar = createCookieJarClient();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }),
    jar,
  );
  const signIn = locationOf(res, idp.url)!;
  expect(signIn.pathname).toBe('/sign-in');
  const page = await (await jar.fetch(signIn)).text();
  return { jar, interaction: formValue(page, 'interaction')!, csrfToken: formValue(page, 'csrf_token')! };
}

function postSignIn(
  jar: CookieJarClient,
  form: Record<string, string>,
  headers: Record<string, string> = { origin: new URL(idp.url).origin },
): Promise<Response> {
  return jar.fetch(new URL('/sign-in', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** The form an opened sign-in posts back, with alice's email and password unless told otherwise. */
function signInForm(
  opened: { interaction: string; csrfToken: string },
  email = 'alice@example.com',
  password = PASSWORD,
): Record<string, string> {
  return { interaction: opened.interaction, csrf_token: opened.csrfToken, email, password };
}

const setsSessionCookie = (res: Response) => res.headers.getSetCookie().some((c) => c.startsWith('tessera_session='));

describe('the sign-in form refuses bad credentials alike', () => {
  it.each([
    ['a wrong password', 'alice@example.com', 'not the password at all'],
    ['an unknown email', 'nobody@example.com', PASSWORD],
  ])('answers %s with 401, the generic message and no session', async (_, email, password) => {
    const { jar, interaction, csrfToken } = await openSignIn();
    const sessions = await countRows(idp, 'sso_sessions');
    const res = await postSignIn(jar, { interaction, csrf_token: csrfToken, email, password });
    expect(res.status).toBe(401);
    const page = await res.text();
    expect(page).toContain('Incorrect email or password.');
    expect(setsSessionCookie(res)).toBe(false);
    expect(res.headers.get('location')).toBeNull();
    expect(await countRows(idp, 'sso_sessions')).toBe(sessions);
    // The form is shown again, with the same interaction, so the person can retry.
    expect(formValue(page, 'interaction')).toBe(interaction);
  });

  it('gives a wrong password and an unknown email the same page apart from the email echoed back', async () => {
    const a = await openSignIn();
    const b = await openSignIn();
    const wrong = await (await postSignIn(a.jar, signInForm(a, 'alice@example.com', 'wrong password'))).text();
    const unknown = await (await postSignIn(b.jar, signInForm(b, 'zelda@example.com', 'wrong password'))).text();
    // The CSP nonce and the passkey form's WebAuthn challenge are fresh in every response, whatever the outcome.
    const normalize = (page: string, i: { interaction: string; csrfToken: string }) =>
      page
        .replace(/nonce="[^"]*"/g, 'nonce="N"')
        .replace(/&quot;challenge&quot;:&quot;[^&]*&quot;/g, '&quot;challenge&quot;:&quot;CH&quot;')
        .replaceAll(i.interaction, 'I')
        .replaceAll(i.csrfToken, 'C')
        .replace(/value="[^"]*@example\.com"/, 'value="E"');
    expect(normalize(wrong, a)).toBe(normalize(unknown, b));
  });

  it('lets the person sign in after a failed attempt in the same interaction', async () => {
    const { jar, ...opened } = await openSignIn();
    await postSignIn(jar, signInForm(opened, 'alice@example.com', 'wrong password'));
    const res = await postSignIn(jar, signInForm(opened));
    expect(res.status).toBe(303);
    expect(locationOf(res, idp.url)!.searchParams.get('code')).toBeTruthy();
  });

  it('escapes the email it shows back on the form', async () => {
    const { jar, ...opened } = await openSignIn();
    const res = await postSignIn(jar, signInForm(opened, '"><script>alert(1)</script>@example.com', 'wrong password'));
    const page = await res.text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('refuses an empty password without creating a session', async () => {
    const { jar, ...opened } = await openSignIn();
    const res = await postSignIn(jar, signInForm(opened, 'alice@example.com', ''));
    expect(res.status).toBe(401);
    expect(setsSessionCookie(res)).toBe(false);
  });
});

describe('the sign-in form refuses cross-site and forged posts', () => {
  it('refuses a wrong csrf_token with 403 and no session, even with the right password', async () => {
    const { jar, interaction } = await openSignIn();
    const sessions = await countRows(idp, 'sso_sessions');
    const res = await postSignIn(jar, {
      interaction,
      csrf_token: 'forged-token',
      email: 'alice@example.com',
      password: PASSWORD,
    });
    expect(res.status).toBe(403);
    expect(setsSessionCookie(res)).toBe(false);
    expect(await countRows(idp, 'sso_sessions')).toBe(sessions);
  });

  it('refuses a missing csrf_token with 403', async () => {
    const { jar, interaction } = await openSignIn();
    const res = await postSignIn(jar, { interaction, email: 'alice@example.com', password: PASSWORD });
    expect(res.status).toBe(403);
    expect(setsSessionCookie(res)).toBe(false);
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['the issuer’s host on another port', { origin: 'http://127.0.0.1:1' }],
  ])('refuses a post from %s with 403 and no session', async (_, headers) => {
    const { jar, ...opened } = await openSignIn();
    const sessions = await countRows(idp, 'sso_sessions');
    const res = await postSignIn(jar, signInForm(opened), headers);
    expect(res.status).toBe(403);
    expect(setsSessionCookie(res)).toBe(false);
    expect(await countRows(idp, 'sso_sessions')).toBe(sessions);
  });

  it('refuses to finish an interaction from a browser that did not start it', async () => {
    const opened = await openSignIn();
    const otherBrowser = createCookieJarClient();
    const res = await postSignIn(otherBrowser, signInForm(opened));
    expect(res.status).toBe(400);
    expect(setsSessionCookie(res)).toBe(false);
  });

  it('refuses an interaction that has expired', async () => {
    const { jar, ...opened } = await openSignIn();
    idp.clock.advance(601);
    const res = await postSignIn(jar, signInForm(opened));
    expect(res.status).toBe(400);
    expect(setsSessionCookie(res)).toBe(false);
  });
});
