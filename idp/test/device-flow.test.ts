/**
 * The device authorization grant (RFC 8628): a device with no browser gets a device code and a
 * user code; a person signed in on another device enters the code at the device page and approves
 * or denies; the device polls the token endpoint meanwhile. openid-client, unmodified, is the
 * device; the device page is driven over HTTP as a browser without JavaScript would.
 */
import { describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { DEVICE_CODE_GRANT_TYPE, createRemoteKeySet, verifyAccessToken } from '@tessera/shared';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { registerClient } from '../src/protocol/registration.js';
import { USER_CODE_ALPHABET } from '../src/protocol/user-code.js';
import { postToken, submitSignIn } from './support/browser.js';
import { PASSWORD, countRows, registerPerson, registration, sql, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

const TV = 'living-room-tv';
const OTHER_TV = 'kitchen-tv';

async function registerDevices(): Promise<void> {
  const deps = registration(idp);
  if (await deps.store.clients.findById(TV)) return;
  await registerPerson(idp, 'bob@example.com', 'Bob');
  const device = { type: 'public' as const, party: 'first' as const, resources: [fx.api.id] };
  await registerClient(deps, {
    ...device,
    id: TV,
    name: 'Living-room TV',
    redirectUris: [],
    grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'],
  });
  await registerClient(deps, {
    ...device,
    id: OTHER_TV,
    name: 'Kitchen TV',
    redirectUris: [],
    grantTypes: [DEVICE_CODE_GRANT_TYPE],
  });
}

/** A device authorization request, as a TV sends it. */
async function startOnDevice(clientId = TV, scope = 'openid profile offline_access') {
  const res = await fetch(new URL('/device_authorization', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'SmartTV/3.1 (Linux; Tizen 6.0)' },
    body: new URLSearchParams({ client_id: clientId, scope }),
  });
  const json = (await res.json()) as Record<string, string> & {
    device_code: string;
    user_code: string;
    verification_uri_complete: string;
  };
  return { status: res.status, json };
}

const poll = (deviceCode: string, clientId = TV) =>
  postToken(idp.url, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, client_id: clientId });

/** A browser signed in as alice (or `email`), on another device than the TV. */
async function signedInBrowser(email = 'alice@example.com'): Promise<CookieJarClient> {
  const jar = createCookieJarClient();
  const start = await jar.fetch(new URL('/sign-in', idp.url));
  await start.text();
  const res = await submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), email, PASSWORD);
  expect(res.status).toBe(303);
  return jar;
}

/** Posts the device page's form with the page's CSRF token. */
async function postDevicePage(jar: CookieJarClient, page: string, form: Record<string, string>) {
  return jar.fetch(new URL('/device', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
    body: new URLSearchParams({ csrf_token: formValue(page, 'csrf_token') ?? '', ...form }),
  });
}

/** Opens the complete verification URI and answers `decision`; returns the final page. */
async function decide(jar: CookieJarClient, uriComplete: string, decision: 'approve' | 'deny') {
  const page = await (await jar.fetch(new URL(uriComplete))).text();
  const res = await postDevicePage(jar, page, { user_code: formValue(page, 'user_code') ?? '', decision });
  return { status: res.status, text: await res.text() };
}

describe('a TV signing in with openid-client, approved on a phone', () => {
  it('gets ID, access and refresh tokens for the person who approved it', async () => {
    await registerDevices();
    const config = await client.discovery(new URL(idp.url), TV, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${idp.url}/device_authorization`);
    expect(config.serverMetadata().grant_types_supported).toContain(DEVICE_CODE_GRANT_TYPE);
    const started = await client.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
    // RFC 8628 §6.1: 8 characters of the base-20 alphabet, shown as XXXX-XXXX.
    expect(started.user_code).toMatch(new RegExp(`^[${USER_CODE_ALPHABET}]{4}-[${USER_CODE_ALPHABET}]{4}$`));
    expect(started.verification_uri).toBe(`${idp.url}/device`);
    expect(started.verification_uri_complete).toBe(`${idp.url}/device?user_code=${started.user_code}`);
    expect(started.interval).toBe(5);
    expect(started.expires_in).toBe(600);

    const phone = await signedInBrowser();
    const page = await (await phone.fetch(new URL(started.verification_uri_complete!))).text();
    // Which app asks, from which device, for what.
    expect(page).toContain('Living-room TV');
    expect(page).toContain(started.user_code);
    expect(page).toContain('See your name');
    const done = await postDevicePage(phone, page, { user_code: started.user_code, decision: 'approve' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Device connected');

    // openid-client waits one interval (5 s) before it polls: real time, once in this file.
    const tokens = await client.pollDeviceAuthorizationGrant(config, started);
    expect(tokens.refresh_token).toBeTruthy();
    const idClaims = tokens.claims()!;
    expect(idClaims).toMatchObject({ iss: idp.url, aud: TV, sub: fx.alice.sub });
    const keySet = createRemoteKeySet(`${idp.url}/jwks`, { now: () => idp.clock.now() });
    const { claims } = await verifyAccessToken(tokens.access_token, {
      issuer: idp.url,
      audience: fx.api.id,
      keySet,
      now: () => idp.clock.now(),
    });
    expect(claims).toMatchObject({ sub: fx.alice.sub, client_id: TV, name: 'Alice Liddell' });
  }, 30_000);
});

describe('polling (RFC 8628 §3.5)', () => {
  it('answers authorization_pending, then slow_down within the interval, which then grows by 5 s', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const first = await poll(json.device_code);
    expect({ status: first.status, error: first.json.error }).toEqual({ status: 400, error: 'authorization_pending' });
    const tooSoon = await poll(json.device_code);
    expect(tooSoon.json.error).toBe('slow_down');
    const [row] = await sql(
      idp,
      'select "interval" as seconds from device_authorizations where user_code = ?',
      json.user_code.replace('-', ''),
    );
    expect(Number(row!.seconds)).toBe(10);
    // Waiting the new interval is answered as pending again, not slow_down.
    idp.clock.advance(10);
    expect((await poll(json.device_code)).json.error).toBe('authorization_pending');
  });

  it('answers access_denied once the person denied it', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const denied = await decide(await signedInBrowser(), json.verification_uri_complete, 'deny');
    expect(denied.text).toContain('Device refused');
    const res = await poll(json.device_code);
    expect({ status: res.status, error: res.json.error }).toEqual({ status: 400, error: 'access_denied' });
  });

  it('answers expired_token once the device code has expired, decided or not', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    idp.clock.advance(601);
    expect((await poll(json.device_code)).json.error).toBe('expired_token');
  });

  it('refuses a device code polled by another client, as invalid_grant, recording nothing of it', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const before = await sql(
      idp,
      'select * from device_authorizations where user_code = ?',
      json.user_code.replace('-', ''),
    );
    expect(before).toHaveLength(1);
    const res = await poll(json.device_code, OTHER_TV);
    expect({ status: res.status, error: res.json.error }).toEqual({ status: 400, error: 'invalid_grant' });
    expect(
      await sql(idp, 'select * from device_authorizations where user_code = ?', json.user_code.replace('-', '')),
    ).toEqual(before);
    // The right client's first poll is still just pending, not slow_down.
    expect((await poll(json.device_code)).json.error).toBe('authorization_pending');
  });

  it('redeems an approved device code once; a replay is invalid_grant and revokes what it gave', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    await decide(await signedInBrowser(), json.verification_uri_complete, 'approve');
    const [first, second] = await Promise.all([poll(json.device_code), poll(json.device_code)]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 400]);
    const winner = first.status === 200 ? first : second;
    expect(winner.json.access_token).toBeTruthy();
    idp.clock.advance(10);
    const replay = await poll(json.device_code);
    expect(replay.json.error).toBe('invalid_grant');
    const refreshed = await postToken(idp.url, {
      grant_type: 'refresh_token',
      refresh_token: winner.json.refresh_token as string,
      client_id: TV,
    });
    expect(refreshed.json.error).toBe('invalid_grant');
  });
});

describe('the device page', () => {
  it('signs a browser in first, then comes back to the code it arrived with', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const jar = createCookieJarClient();
    const res = await jar.fetch(new URL(json.verification_uri_complete));
    expect(res.status).toBe(303);
    const signIn = new URL(res.headers.get('location')!, idp.url);
    expect(signIn.pathname).toBe('/sign-in');
    const signedIn = await submitSignIn(jar, idp.url, signIn, 'alice@example.com', PASSWORD);
    expect(signedIn.status).toBe(303);
    const back = new URL(signedIn.headers.get('location')!, idp.url);
    expect(back.pathname + back.search).toBe(`/device?user_code=${json.user_code}`);
    expect(await (await jar.fetch(back)).text()).toContain('Living-room TV');
  });

  it('takes a code typed in lower case without the dash', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const jar = await signedInBrowser();
    const form = await (await jar.fetch(new URL('/device', idp.url))).text();
    const typed = json.user_code.replace('-', ' ').toLowerCase();
    const res = await postDevicePage(jar, form, { user_code: typed });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Living-room TV');
  });

  it('refuses to decide a code twice: the second approval changes nothing', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const phone = await signedInBrowser();
    const page = await (await phone.fetch(new URL(json.verification_uri_complete))).text();
    expect((await decide(phone, json.verification_uri_complete, 'approve')).text).toContain('Device connected');
    const bob = await signedInBrowser('bob@example.com');
    const before = await sql(
      idp,
      'select * from device_authorizations where user_code = ?',
      json.user_code.replace('-', ''),
    );
    expect(before).toHaveLength(1);
    // The form from before the first decision, posted again; and another person's approval.
    const again = await postDevicePage(phone, page, { user_code: json.user_code, decision: 'deny' });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('not valid, or it has expired or been used');
    const bobs = await decide(bob, json.verification_uri_complete, 'approve');
    expect(bobs.status).toBe(400);
    expect(
      await sql(idp, 'select * from device_authorizations where user_code = ?', json.user_code.replace('-', '')),
    ).toEqual(before);
  });

  it('throttles entering wrong codes like passwords, until even the right code waits', async () => {
    await registerDevices();
    const carol = await registerPerson(idp, 'carol@example.com', 'Carol');
    const { json } = await startOnDevice();
    const jar = await signedInBrowser('carol@example.com');
    const form = await (await jar.fetch(new URL('/device', idp.url))).text();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wrong = `BBBB${USER_CODE_ALPHABET[i]}${USER_CODE_ALPHABET[i]}BB`;
      const res = await postDevicePage(jar, form, { user_code: wrong });
      await res.text();
      statuses.push(res.status);
    }
    // Each wrong code looked up counted against the person; once blocked, the next is refused at
    // once, not looked up (the IP's count, shared by this file's tests, may block sooner).
    expect(statuses[0]).toBe(400);
    expect(statuses).toContain(429);
    const [counter] = await sql(
      idp,
      'select failures from sign_in_throttles where key = ?',
      `device-person:${carol.sub}`,
    );
    expect(Number(counter!.failures)).toBe(statuses.filter((s) => s === 400).length);
    expect(Number(counter!.failures)).toBeLessThanOrEqual(6);
    const right = await postDevicePage(jar, form, { user_code: json.user_code });
    expect(right.status).toBe(429);
    expect(await right.text()).toContain('Too many wrong codes');
    // Approving by posting the decision directly is throttled the same way.
    const direct = await postDevicePage(jar, form, { user_code: json.user_code, decision: 'approve' });
    expect(direct.status).toBe(429);
    expect((await poll(json.device_code)).json.error).toBe('authorization_pending');
  });

  it('refuses a form from another origin or without its token', async () => {
    await registerDevices();
    const { json } = await startOnDevice();
    const jar = await signedInBrowser();
    const res = await jar.fetch(new URL('/device', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({ user_code: json.user_code, decision: 'approve', csrf_token: 'forged' }),
    });
    expect(res.status).toBe(403);
    expect((await poll(json.device_code)).json.error).toBe('authorization_pending');
  });
});

describe('the device authorization endpoint', () => {
  it('refuses a client not registered for the grant, and an unknown scope, storing nothing', async () => {
    await registerDevices();
    const before = await countRows(idp, 'device_authorizations');
    const unregistered = await startOnDevice(fx.publicClient.id);
    expect({ status: unregistered.status, error: unregistered.json.error }).toEqual({
      status: 400,
      error: 'unauthorized_client',
    });
    const scope = await startOnDevice(TV, 'openid address');
    expect(scope.json.error).toBe('invalid_scope');
    const unknown = await startOnDevice('no-such-device');
    expect({ status: unknown.status, error: unknown.json.error }).toEqual({ status: 401, error: 'invalid_client' });
    expect(await countRows(idp, 'device_authorizations')).toBe(before);
  });
});
