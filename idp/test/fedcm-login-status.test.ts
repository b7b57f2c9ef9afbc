/**
 * FedCM's side of signing in and out at the issuer (docs/architecture.md, "FedCM"): every sign-in
 * sets the FedCM cookie beside the session cookie and sends `Set-Login: logged-in`; every sign-out
 * clears both and sends `Set-Login: logged-out`; the sign-in window (login_url) ends at a page that
 * closes it. Over real HTTP, on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { authorizeQuery, getAuthorize, locationOf, submitSignIn } from './support/browser.js';
import { AccountWorld } from './support/account-people.js';
import { at, locationPath, makePerson, signInAsAsked } from './support/admin-console.js';
import { PASSWORD, seed, startIssuer, useIssuer, type RunningIssuer } from './support/fixture.js';
import { directives, headerNonce } from './support/pages.js';

const { idp, fx } = useIssuer();
let world: AccountWorld;
beforeAll(async () => {
  world = new AccountWorld(idp, fx, 'fedcm-status');
  await world.start();
});
afterAll(() => world.stop());

/** A Set-Cookie header of `res` for cookie `name`, split into its attributes (lower-cased names). */
function setCookie(res: Response, name: string): { value: string; attributes: Map<string, string> } | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (header === undefined) return undefined;
  const [pair, ...attrs] = header.split(';');
  const attributes = new Map(
    attrs.map((a) => a.trim().split('=') as [string, string?]).map(([k, v]) => [k.toLowerCase(), v ?? ''] as const),
  );
  return { value: pair!.slice(name.length + 1), attributes };
}

/** The accounts endpoint's status for `jar`, as the browser's FedCM fetch asks. */
const accountsStatus = async (jar: CookieJarClient): Promise<number> =>
  (await jar.fetch(at(idp, '/fedcm/accounts'), { headers: { 'sec-fetch-dest': 'webidentity' } })).status;

/** Expects a sign-out answer: both cookies cleared, and the browser told. */
function expectSignedOut(res: Response): void {
  expect(res.headers.get('set-login')).toBe('logged-out');
  expect(setCookie(res, 'tessera_session')?.attributes.get('max-age')).toBe('0');
  expect(setCookie(res, 'tessera_fedcm')?.attributes.get('max-age')).toBe('0');
}

describe('signing in', () => {
  it('sets the FedCM cookie (HttpOnly, Secure, SameSite=None) and Set-Login: logged-in with the session', async () => {
    const jar = createCookieJarClient();
    const signInUrl = locationOf(
      await getAuthorize(idp.url, authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }), jar),
      idp.url,
    )!;
    const res = await submitSignIn(jar, idp.url, signInUrl, 'alice@example.com', PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.get('set-login')).toBe('logged-in');
    const fedcm = setCookie(res, 'tessera_fedcm');
    expect(fedcm).toBeDefined();
    expect(fedcm!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fedcm!.value).not.toBe(jar.cookie(idp.url, 'tessera_session'));
    expect(fedcm!.attributes.has('httponly')).toBe(true);
    expect(fedcm!.attributes.has('secure')).toBe(true);
    expect(fedcm!.attributes.get('samesite')).toBe('None');
    expect(fedcm!.attributes.get('path')).toBe('/');
    expect(fedcm!.attributes.has('domain')).toBe(false);
    expect(Number(fedcm!.attributes.get('max-age'))).toBe(
      Number(setCookie(res, 'tessera_session')!.attributes.get('max-age')),
    );
    expect(await accountsStatus(jar)).toBe(200);
  });

  it('sends nothing after a right password alone when a second factor follows; both with the factor', async () => {
    const person = await makePerson(idp, { totp: true, name: 'fedcm-factor' });
    const jar = createCookieJarClient();
    const start = await jar.fetch(at(idp, '/fedcm/sign-in'));
    const password = await submitSignIn(jar, idp.url, at(idp, locationPath(idp, start)!), person.email, PASSWORD);
    expect(locationPath(idp, password)).toMatch(/^\/sign-in\/factor\?/);
    expect(password.headers.get('set-login')).toBeNull();
    expect(setCookie(password, 'tessera_fedcm')).toBeUndefined();
    const factor = await signInAsAsked(idp, jar, password, person);
    expect(factor.headers.get('set-login')).toBe('logged-in');
    expect(setCookie(factor, 'tessera_fedcm')).toBeDefined();
    expect(locationPath(idp, factor)).toBe('/fedcm/signed-in');
    expect(await accountsStatus(jar)).toBe(200);
  });

  it('gives a new FedCM cookie at every sign-in: the one from before opens nothing', async () => {
    const person = await world.newPerson('fedcm-renew');
    const device = await world.signInDevice(person.email);
    const before = device.jar.cookie(idp.url, 'tessera_fedcm')!;
    const start = await device.jar.fetch(at(idp, '/fedcm/sign-in'));
    // The session has a FedCM cookie already: the window closes at once.
    expect(locationPath(idp, start)).toBe('/fedcm/signed-in');
    const again = await device.jar.fetch(
      at(
        idp,
        `/authorize?${authorizeQuery({ clientId: world.rp.id, redirectUri: fx.redirectUri }, { prompt: 'login' })}`,
      ),
    );
    await submitSignIn(device.jar, idp.url, locationOf(again, idp.url)!, person.email, PASSWORD);
    const after = device.jar.cookie(idp.url, 'tessera_fedcm')!;
    expect(after).not.toBe(before);
    const stale = createCookieJarClient();
    stale.setCookie(idp.url, 'tessera_fedcm', before);
    expect(await accountsStatus(stale)).toBe(401);
    expect(await accountsStatus(device.jar)).toBe(200);
  });
});

describe('the sign-in window (login_url)', () => {
  it('signs in at the issuer and ends at a page that closes it, under the page’s CSP nonce', async () => {
    const jar = createCookieJarClient();
    const start = await jar.fetch(at(idp, '/fedcm/sign-in'));
    expect(start.status).toBe(303);
    expect(locationPath(idp, start)).toMatch(/^\/sign-in\?interaction=/);
    const signedIn = await submitSignIn(
      jar,
      idp.url,
      at(idp, locationPath(idp, start)!),
      'alice@example.com',
      PASSWORD,
    );
    expect(signedIn.headers.get('set-login')).toBe('logged-in');
    expect(locationPath(idp, signedIn)).toBe('/fedcm/signed-in');
    const page = await jar.fetch(at(idp, '/fedcm/signed-in'));
    expect(page.status).toBe(200);
    expect(page.headers.get('set-login')).toBe('logged-in');
    const html = await page.text();
    expect(html).toContain('data-fedcm-signed-in');
    expect(html).toContain('Alice Liddell');
    // The page's one script is the issuer's, loaded with this response's nonce; nothing inline.
    const nonce = headerNonce(page);
    expect(html).toContain(`<script type="module" src="/assets/passkeys.js" nonce="${nonce}">`);
    expect(directives(page).get('script-src')).toEqual([`'nonce-${nonce}'`]);
    const script = await (await fetch(at(idp, '/assets/passkeys.js'))).text();
    expect(script).toContain('data-fedcm-signed-in');
    expect(script).toContain('IdentityProvider');
  });

  it('sends a browser that is not signed in from the signed-in page to the sign-in', async () => {
    const res = await fetch(at(idp, '/fedcm/signed-in'), { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/fedcm/sign-in');
    expect(res.headers.get('set-login')).toBeNull();
  });
});

describe('signing out', () => {
  it('at the end-session endpoint: both cookies cleared, Set-Login: logged-out, FedCM sees no one', async () => {
    const person = await world.newPerson('fedcm-logout');
    const device = await world.signInDevice(person.email);
    const fedcm = device.jar.cookie(idp.url, 'tessera_fedcm')!;
    const page = await device.jar.fetch(at(idp, '/logout'));
    const html = await page.text();
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)![1]!;
    const res = await device.jar.fetch(at(idp, '/logout/confirm'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({ csrf_token: csrf }),
    });
    expect(res.status).toBe(200);
    expectSignedOut(res);
    const kept = createCookieJarClient();
    kept.setCookie(idp.url, 'tessera_fedcm', fedcm);
    expect(await accountsStatus(kept)).toBe(401);
  });

  it('when the account page ends this device', async () => {
    const person = await world.newPerson('fedcm-device');
    const device = await world.signInDevice(person.email);
    const { csrfToken } = await world.page(device, '/account');
    const res = await world.postForm(device, `/account/devices/${encodeURIComponent(device.sid)}/end`, {
      csrf_token: csrfToken,
    });
    expect(res.status).toBe(303);
    expectSignedOut(res);
    expect(await accountsStatus(device.jar)).toBe(401);
  });

  it('when the person deletes their account', async () => {
    const person = await world.newPerson('fedcm-delete');
    const device = await world.signInDevice(person.email);
    const { csrfToken } = await world.page(device, '/account/delete');
    const res = await world.postForm(device, '/account/delete', {
      csrf_token: csrfToken,
      current_password: PASSWORD,
      confirm_email: person.email,
    });
    expect(res.status).toBe(303);
    expectSignedOut(res);
  });
});

describe('with an https issuer (TESSERA_ISSUER=https://…, requests still sent to the loopback server)', () => {
  const HTTPS_ISSUER = 'https://idp.example.test';
  let secure: RunningIssuer;
  beforeAll(async () => {
    secure = await startIssuer({ env: { TESSERA_ISSUER: HTTPS_ISSUER } });
    await seed(secure);
  });
  afterAll(() => secure.cleanup());

  it('sets __Host-tessera_fedcm, read under that name only (RFC 6265bis §4.1.3.2: no cookie tossing)', async () => {
    const jar = createCookieJarClient();
    const authorize = await getAuthorize(
      secure.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      jar,
    );
    const signInUrl = locationOf(authorize, secure.url)!;
    const page = await (await jar.fetch(new URL(signInUrl.pathname + signInUrl.search, secure.url))).text();
    const res = await jar.fetch(new URL('/sign-in', secure.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: HTTPS_ISSUER },
      body: new URLSearchParams({
        interaction: formValue(page, 'interaction')!,
        csrf_token: formValue(page, 'csrf_token')!,
        email: 'alice@example.com',
        password: PASSWORD,
      }),
    });
    expect(res.status).toBe(303);
    expect(setCookie(res, 'tessera_fedcm')).toBeUndefined();
    const fedcm = setCookie(res, '__Host-tessera_fedcm');
    expect(fedcm).toBeDefined();
    expect(fedcm!.attributes.has('secure')).toBe(true);
    expect(fedcm!.attributes.get('samesite')).toBe('None');
    expect(fedcm!.attributes.get('path')).toBe('/');
    expect(fedcm!.attributes.has('domain')).toBe(false);
    const accounts = (cookie: string) =>
      fetch(new URL('/fedcm/accounts', secure.url), {
        headers: { 'sec-fetch-dest': 'webidentity', cookie: `${cookie}=${fedcm!.value}` },
      });
    expect((await accounts('__Host-tessera_fedcm')).status).toBe(200);
    expect((await accounts('tessera_fedcm')).status).toBe(401);
  });
});
