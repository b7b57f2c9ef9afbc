/**
 * The account page: a person sees their devices (SSO sessions) and signs one or all of them
 * out. Two "devices" are two cookie jars sending different User-Agent headers; ending a device
 * must end its SSO session, refuse its refresh token and send back-channel logout to its app,
 * and leave the other device alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryJtiStore, createRemoteKeySet, verifyLogoutToken, type LogoutTokenClaims } from '@tessera/shared';
import { createCookieJarClient, formValue, type CookieJarClient, eventually } from '@tessera/shared/testing';
import { registerUser } from '../src/protocol/registration.js';
import { browserFlow, redeem, submitSignIn } from './support/browser.js';
import { PASSWORD, countRows, registerWebClient, sql, storedJson, useIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';

const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } } });
const receiver = new LogoutReceiver();
const rp = { id: 'devices-rp', secret: 'devices-rp-secret-devices-rp-secret-0000' };

beforeAll(async () => {
  await receiver.start();
  await registerWebClient(idp, fx, { ...rp, name: 'Devices RP' }, { backchannelLogoutUri: receiver.url });
});
afterAll(() => receiver.stop());

/** A browser on its own device: its own cookies, its own User-Agent. */
function deviceJar(userAgent: string): CookieJarClient {
  const withUserAgent = (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('user-agent', userAgent);
    return fetch(input, { ...init, headers });
  };
  return createCookieJarClient(withUserAgent as typeof fetch);
}

let people = 0;
/** A new person per test, so each sees only the devices that test signed in. */
async function newPerson(): Promise<{ email: string; sub: string }> {
  const { store, passwords, clock } = idp.issuer.ctx;
  const email = `person-${++people}@example.com`;
  const user = await registerUser(
    { store, passwords, clock },
    { email, displayName: `Person ${people}`, password: PASSWORD },
  );
  return { email, sub: user.sub };
}

interface Device {
  jar: CookieJarClient;
  sid: string;
  refreshToken: string;
}

/** Signs `email` in to the RP on a new device; returns its jar, its sid and its refresh token. */
async function signInDevice(email: string, userAgent: string): Promise<Device> {
  const jar = deviceJar(userAgent);
  const { callback, verifier } = await browserFlow(
    idp.url,
    { clientId: rp.id, redirectUri: fx.redirectUri },
    { email },
    jar,
  );
  const res = await redeem(
    idp.url,
    { code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: fx.redirectUri },
    rp,
  );
  expect(res.status).toBe(200);
  const idToken = JSON.parse(Buffer.from((res.json.id_token as string).split('.')[1]!, 'base64url').toString()) as {
    sid: string;
  };
  expect(res.json.refresh_token).toEqual(expect.any(String));
  return { jar, sid: idToken.sid, refreshToken: res.json.refresh_token as string };
}

async function accountPage(device: Device): Promise<{ res: Response; html: string; csrfToken: string }> {
  const res = await device.jar.fetch(`${idp.url}/account`);
  const html = await res.text();
  return { res, html, csrfToken: formValue(html, 'csrf_token') ?? '' };
}

function postForm(
  device: Device,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = { origin: idp.url },
): Promise<Response> {
  return device.jar.fetch(`${idp.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

async function endDevice(by: Device, sid: string): Promise<Response> {
  const { csrfToken } = await accountPage(by);
  return postForm(by, `/account/devices/${encodeURIComponent(sid)}/end`, { csrf_token: csrfToken });
}

/** Whether the issuer still has an SSO session for this device: prompt=none gets a code or login_required. */
async function stillSignedIn(device: Device): Promise<boolean> {
  const { callback } = await browserFlow(
    idp.url,
    { clientId: rp.id, redirectUri: fx.redirectUri, extra: { prompt: 'none' } },
    null,
    device.jar,
  );
  if (callback.searchParams.get('code')) return true;
  expect(callback.searchParams.get('error')).toBe('login_required');
  return false;
}

/** Refreshes the device's token (rotating it on success); returns the status and the error code. */
async function refresh(device: Device): Promise<{ status: number; error?: unknown }> {
  const res = await fetch(`${idp.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${rp.id}:${rp.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: device.refreshToken }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status === 200) device.refreshToken = json.refresh_token as string;
  return { status: res.status, error: json.error };
}

const activeSessions = (sub: string) => countRows(idp, 'sso_sessions', `user_id = '${sub}' and ended_at is null`);
const deviceEndedEvents = async () =>
  (await sql(idp, "select subject, ip, detail from audit_events where type = 'device.ended'")).map((r) => ({
    subject: r.subject,
    ip: r.ip,
    detail: storedJson(r.detail),
  }));

/** The logout tokens received for `sid` (verified), waiting until `count` have arrived. */
async function logoutTokensFor(sid: string, count = 1): Promise<LogoutTokenClaims[]> {
  const keySet = createRemoteKeySet(`${idp.url}/jwks`);
  const verified = async () =>
    (
      await Promise.all(
        receiver.tokens.map((t) =>
          verifyLogoutToken(t, { issuer: idp.url, audience: rp.id, keySet, jtiStore: createMemoryJtiStore() }),
        ),
      )
    ).map((v) => v.claims);
  let found: LogoutTokenClaims[] = [];
  await eventually(async () => {
    found = (await verified()).filter((c) => c.sid === sid);
    return found.length >= count;
  });
  return found;
}

/** The list items of the device list, one string of HTML each. */
const deviceItems = (html: string) => html.split('<li>').slice(1);

describe('the account page', () => {
  it('sends a browser that is not signed in to the sign-in page, which returns to /account', async () => {
    const { email } = await newPerson();
    const jar = deviceJar(FIREFOX_WINDOWS);
    const res = await jar.fetch(`${idp.url}/account`);
    expect(res.status).toBe(303);
    const signIn = new URL(res.headers.get('location')!, idp.url);
    expect(signIn.pathname).toBe('/sign-in');
    const signedIn = await submitSignIn(jar, idp.url, signIn, email, PASSWORD);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/account');
    const page = await jar.fetch(`${idp.url}/account`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('This device');
  });

  it('lists every device with its description, IP and times, and marks this device', async () => {
    const { email } = await newPerson();
    const one = await signInDevice(email, CHROME_LINUX);
    const two = await signInDevice(email, FIREFOX_WINDOWS);
    const { res, html } = await accountPage(two);
    expect(res.status).toBe(200);
    const items = deviceItems(html);
    expect(items).toHaveLength(2);
    const [current, other] = items as [string, string];
    expect(current).toContain('Firefox 130 on Windows');
    expect(current).toContain('This device');
    expect(current).toContain(`/account/devices/${two.sid}/end`);
    expect(other).toContain('Chrome 156 on Linux');
    expect(other).not.toContain('This device');
    expect(other).toContain(`/account/devices/${one.sid}/end`);
    for (const item of items) {
      expect(item).toContain('127.0.0.1');
      expect(item).toMatch(/Signed in<\/dt><dd><time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
      expect(item).toMatch(/Last active<\/dt><dd><time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
      expect(item).toContain('<button type="submit" aria-describedby="device-');
      expect(item).toContain('>Sign out this device</button>');
    }
    expect(html).toContain('>Sign out everywhere</button>');
  });

  it('is never cached and may not be framed', async () => {
    const { email } = await newPerson();
    const { res } = await accountPage(await signInDevice(email, CHROME_LINUX));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('shows a hostile User-Agent only as a description, never as markup', async () => {
    const { email } = await newPerson();
    const device = await signInDevice(email, '<script>alert(1)</script> Linux');
    const { html } = await accountPage(device);
    expect(html).not.toContain('<script>');
    expect(html).toContain('Unknown browser on Linux');
  });
});

describe('signing out one device', () => {
  it('ends the other device: its SSO session and refresh token, and tells its app by back-channel logout', async () => {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const two = await signInDevice(person.email, FIREFOX_WINDOWS);

    const res = await endDevice(two, one.sid);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
    expect(res.headers.get('cache-control')).toBe('no-store');

    expect(await stillSignedIn(one)).toBe(false);
    expect(await refresh(one)).toEqual({ status: 400, error: 'invalid_grant' });
    const [claims] = await logoutTokensFor(one.sid);
    expect(claims).toMatchObject({ sub: person.sub, sid: one.sid });
  });

  it('leaves the device that asked signed in, with a working refresh token, and lists only it', async () => {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const two = await signInDevice(person.email, FIREFOX_WINDOWS);
    await endDevice(two, one.sid);

    expect(await stillSignedIn(two)).toBe(true);
    await logoutTokensFor(one.sid);
    expect(
      receiver.tokens.filter((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sid === two.sid),
    ).toEqual([]);
    expect((await refresh(two)).status).toBe(200);
    const items = deviceItems((await accountPage(two)).html);
    expect(items).toHaveLength(1);
    expect(items[0]).toContain('Firefox 130 on Windows');
  });

  it('records who ended which device in the audit trail', async () => {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const two = await signInDevice(person.email, FIREFOX_WINDOWS);
    await endDevice(two, one.sid);
    expect((await deviceEndedEvents()).filter((e) => e.subject === person.sub)).toEqual([
      { subject: person.sub, ip: '127.0.0.1', detail: { sid: one.sid, by_sid: two.sid } },
    ]);
  });

  it('signs this browser out when it ends itself, and shows the signed-out page', async () => {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const res = await endDevice(one, one.sid);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/signed-out');
    expect(res.headers.getSetCookie().some((c) => /^tessera_session=;.*Max-Age=0/i.test(c))).toBe(true);
    const page = await one.jar.fetch(`${idp.url}/account/signed-out`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('You are signed out');
    expect(await activeSessions(person.sub)).toBe(0);
    expect((await one.jar.fetch(`${idp.url}/account`)).headers.get('location')).toBe('/sign-in');
  });
});

describe('signing out everywhere', () => {
  it('ends every device of the person, revokes their refresh tokens and tells the app of each', async () => {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const two = await signInDevice(person.email, FIREFOX_WINDOWS);
    const { csrfToken } = await accountPage(one);

    const res = await postForm(one, '/account/sign-out-everywhere', { csrf_token: csrfToken });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/signed-out');

    expect(await activeSessions(person.sub)).toBe(0);
    expect(await stillSignedIn(one)).toBe(false);
    expect(await stillSignedIn(two)).toBe(false);
    expect(await refresh(one)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await refresh(two)).toEqual({ status: 400, error: 'invalid_grant' });
    await logoutTokensFor(one.sid);
    await logoutTokensFor(two.sid);
    expect((await deviceEndedEvents()).filter((e) => e.subject === person.sub).map((e) => e.detail)).toEqual([
      { sid: two.sid, by_sid: one.sid },
      { sid: one.sid, by_sid: one.sid },
    ]);
  });

  it("leaves another person's devices alone", async () => {
    const alice = await newPerson();
    const bob = await newPerson();
    const a = await signInDevice(alice.email, CHROME_LINUX);
    const b = await signInDevice(bob.email, CHROME_LINUX);
    const { csrfToken } = await accountPage(a);
    await postForm(a, '/account/sign-out-everywhere', { csrf_token: csrfToken });
    expect(await stillSignedIn(b)).toBe(true);
    expect(await activeSessions(bob.sub)).toBe(1);
  });
});

describe('refusals change nothing', () => {
  /** Two signed-in devices of one person; every refusal must leave both active. */
  async function twoDevices() {
    const person = await newPerson();
    const one = await signInDevice(person.email, CHROME_LINUX);
    const two = await signInDevice(person.email, FIREFOX_WINDOWS);
    const { csrfToken } = await accountPage(two);
    return { person, one, two, csrfToken };
  }

  const csrfCases: [
    string,
    (t: string, other: string) => { form: Record<string, string>; headers?: Record<string, string> },
  ][] = [
    ['a missing CSRF token', () => ({ form: {} })],
    ['a wrong CSRF token', () => ({ form: { csrf_token: 'forged-token-forged-token-forged-token-0000' } })],
    ["another device's CSRF token", (_, other) => ({ form: { csrf_token: other } })],
    ['a foreign Origin', (t) => ({ form: { csrf_token: t }, headers: { origin: 'https://evil.example' } })],
    ['Origin: null', (t) => ({ form: { csrf_token: t }, headers: { origin: 'null' } })],
    ['Sec-Fetch-Site: cross-site', (t) => ({ form: { csrf_token: t }, headers: { 'sec-fetch-site': 'cross-site' } })],
  ];

  it.each(csrfCases)('refuses to end a device with %s (403)', async (_, make) => {
    const { person, one, two, csrfToken } = await twoDevices();
    const { csrfToken: otherToken } = await accountPage(one);
    const { form, headers } = make(csrfToken, otherToken);
    const res = await postForm(two, `/account/devices/${one.sid}/end`, form, headers);
    expect(res.status).toBe(403);
    expect(await activeSessions(person.sub)).toBe(2);
    expect((await deviceEndedEvents()).filter((e) => e.subject === person.sub)).toEqual([]);
  });

  it.each(csrfCases)('refuses to sign out everywhere with %s (403)', async (_, make) => {
    const { person, one, two, csrfToken } = await twoDevices();
    const { csrfToken: otherToken } = await accountPage(one);
    const { form, headers } = make(csrfToken, otherToken);
    const res = await postForm(two, '/account/sign-out-everywhere', form, headers);
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await activeSessions(person.sub)).toBe(2);
  });

  it("answers 404 for another person's device and leaves it signed in", async () => {
    const { person, two } = await twoDevices();
    const stranger = await newPerson();
    const theirs = await signInDevice(stranger.email, CHROME_LINUX);
    const res = await endDevice(two, theirs.sid);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Device not found');
    expect(await stillSignedIn(theirs)).toBe(true);
    expect(await activeSessions(stranger.sub)).toBe(1);
    expect(await activeSessions(person.sub)).toBe(2);
    expect((await deviceEndedEvents()).filter((e) => e.subject === stranger.sub || e.subject === person.sub)).toEqual(
      [],
    );
  });

  it.each([
    ['an unknown sid', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['a malformed sid', 'not a sid!'],
  ])('answers 404 for %s', async (_, sid) => {
    const { person, two } = await twoDevices();
    expect((await endDevice(two, sid)).status).toBe(404);
    expect(await activeSessions(person.sub)).toBe(2);
  });

  it('answers 404 for a device already signed out', async () => {
    const { person, one, two } = await twoDevices();
    await endDevice(two, one.sid);
    expect((await endDevice(two, one.sid)).status).toBe(404);
    expect(await activeSessions(person.sub)).toBe(1);
  });

  it('sends a POST without a session to the sign-in page', async () => {
    const { person, one } = await twoDevices();
    const res = await postForm({ ...one, jar: createCookieJarClient() }, `/account/devices/${one.sid}/end`, {
      csrf_token: 'x',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sign-in');
    expect(await activeSessions(person.sub)).toBe(2);
  });
});
