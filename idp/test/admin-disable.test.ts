/**
 * A person disabled from the admin console is refused everywhere: their apps get back-channel
 * logout for every session, their refresh tokens (offline ones too), access tokens, device
 * approvals and token exchanges stop working, and a sign-in with the right password (or the right
 * code after it) says the account is disabled — while a wrong password still says only that the
 * credentials are wrong, so the message enumerates nothing. And a person marked disabled while a
 * token was being issued (the mark without the ending) is refused by the mark alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE_CODE_GRANT_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPE_IDENTIFIERS,
  createMemoryJtiStore,
  createRemoteKeySet,
  verifyLogoutToken,
} from '@tessera/shared';
import { createCookieJarClient, eventually, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { registerClient, registerResource } from '../src/protocol/registration.js';
import { SoftwareAuthenticator } from './support/authenticator.js';
import { at, consoleBrowser, locationPath, makePerson, post, signInAsAsked } from './support/admin-console.js';
import { basicAuth, browserFlow, postToken, redeem, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { passkeyOptionsIn } from './support/pages.js';
import { PASSWORD, registerWebClient, registration, useIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } } });
const receiverA = new LogoutReceiver();
const receiverB = new LogoutReceiver();
const appA = { id: 'disable-app-a', secret: 'disable-app-a-secret-disable-app-a-secret' };
const appB = { id: 'disable-app-b', secret: 'disable-app-b-secret-disable-app-b-secret' };
const TV = 'disable-tv';
const PARTNER_API = 'https://partner-api.disable.example.test';

beforeAll(async () => {
  await receiverA.start();
  await receiverB.start();
  await registerResource(registration(idp), { id: PARTNER_API, name: 'Partner API' });
  await registerWebClient(
    idp,
    fx,
    { ...appA, name: 'App A' },
    { backchannelLogoutUri: receiverA.url, exchangeTargets: [PARTNER_API] },
  );
  await registerWebClient(idp, fx, { ...appB, name: 'App B' }, { backchannelLogoutUri: receiverB.url });
  await registerClient(registration(idp), {
    id: TV,
    name: 'TV',
    type: 'public',
    party: 'first',
    redirectUris: [],
    resources: [fx.api.id],
    grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'],
  });
  return () => {
    receiverA.stop();
    receiverB.stop();
  };
});

/** Signs `email` in to `app` through `jar` (SSO after the first): its tokens. */
async function tokensFor(app: { id: string; secret: string }, email: string, jar: CookieJarClient, scope: string) {
  const flow = await browserFlow(idp.url, { clientId: app.id, redirectUri: fx.redirectUri, scope }, { email }, jar);
  const res = await redeem(
    idp.url,
    { code: flow.callback.searchParams.get('code')!, code_verifier: flow.verifier, redirect_uri: fx.redirectUri },
    app,
  );
  expect(res.status).toBe(200);
  return res.json as { access_token: string; refresh_token: string; id_token: string };
}

const refresh = (app: { id: string; secret: string }, token: string) =>
  postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: token },
    { authorization: basicAuth(app.id, app.secret) },
  );

const userinfoStatus = async (token: string) =>
  (await fetch(at(idp, '/userinfo'), { headers: { authorization: `Bearer ${token}` } })).status;

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(at(idp, '/introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(appA.id, appA.secret) },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const exchange = (token: string) =>
  postToken(
    idp.url,
    {
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: token,
      subject_token_type: TOKEN_TYPE_IDENTIFIERS.accessToken,
      resource: PARTNER_API,
    },
    { authorization: basicAuth(appA.id, appA.secret) },
  );

/** A TV's device authorization, approved by the person in `jar`: its device code, not yet polled. */
async function approvedOnTv(jar: CookieJarClient): Promise<string> {
  const res = await fetch(at(idp, '/device_authorization'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: TV, scope: 'openid offline_access' }),
  });
  const started = (await res.json()) as { device_code: string; verification_uri_complete: string };
  const page = await (await jar.fetch(new URL(started.verification_uri_complete))).text();
  const approved = await jar.fetch(at(idp, '/device'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
    body: new URLSearchParams({
      csrf_token: formValue(page, 'csrf_token') ?? '',
      user_code: formValue(page, 'user_code') ?? '',
      decision: 'approve',
    }),
  });
  expect(approved.status).toBeLessThan(400);
  return started.device_code;
}

const pollTv = (deviceCode: string) =>
  postToken(idp.url, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, client_id: TV });

/** The sign-in page's answer to `password` for `email`, in a new browser: status and message. */
async function signInAnswer(email: string, password: string): Promise<{ status: number; message?: string }> {
  const res = await submitSignIn(createCookieJarClient(), idp.url, at(idp, '/sign-in'), email, password);
  const message = /<p class="error" role="alert">([^<]+)</.exec(await res.text())?.[1];
  return { status: res.status, ...(message ? { message } : {}) };
}

describe('a person disabled in the console', () => {
  it('is signed out of both apps, loses every grant and token, and is refused at sign-in', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'disabler' });
    const person = await makePerson(idp, { name: 'disabled' });
    const jar = createCookieJarClient();
    const a = await tokensFor(appA, person.email, jar, 'openid profile email');
    const b = await tokensFor(appB, person.email, jar, 'openid offline_access');
    const deviceCode = await approvedOnTv(jar);
    // Another browser of theirs: a second session.
    await tokensFor(appB, person.email, createCookieJarClient(), 'openid');
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub)).toHaveLength(2);
    expect(await userinfoStatus(a.access_token)).toBe(200);
    expect((await introspect(a.access_token)).active).toBe(true);

    const { jar: consoleJar, formToken } = await consoleBrowser(idp, admin);
    const res = await post(idp, consoleJar, `/admin/users/${person.sub}/disable`, { form_token: formToken });
    expect(locationPath(idp, res)).toBe(`/admin/users/${person.sub}?done=disabled`);

    // Back-channel logout: app A for the one session it knew, app B for both.
    const keySet = createRemoteKeySet(`${idp.url}/jwks`);
    const subjectsOf = async (receiver: LogoutReceiver, app: string) => {
      const jtiStore = createMemoryJtiStore();
      const claims = [];
      for (const token of receiver.tokens)
        claims.push((await verifyLogoutToken(token, { issuer: idp.url, audience: app, keySet, jtiStore })).claims);
      return claims.map((c) => c.sub);
    };
    await eventually(() => receiverA.tokens.length >= 1 && receiverB.tokens.length >= 2);
    expect(await subjectsOf(receiverA, appA.id)).toEqual([person.sub]);
    expect(await subjectsOf(receiverB, appB.id)).toEqual([person.sub, person.sub]);
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub)).toEqual([]);

    expect((await refresh(appA, a.refresh_token)).json.error).toBe('invalid_grant');
    expect((await refresh(appB, b.refresh_token)).json.error).toBe('invalid_grant');
    expect(await userinfoStatus(a.access_token)).toBe(401);
    expect(await introspect(a.access_token)).toEqual({ active: false });
    expect(await introspect(a.refresh_token)).toEqual({ active: false });
    const exchanged = await exchange(a.access_token);
    expect({ status: exchanged.status, error: exchanged.json.error }).toEqual({
      status: 400,
      error: 'invalid_request',
    });
    const polled = await pollTv(deviceCode);
    expect({ status: polled.status, error: polled.json.error }).toEqual({ status: 400, error: 'invalid_grant' });

    // The right password: told the account is disabled. A wrong one: told nothing more.
    expect(await signInAnswer(person.email, PASSWORD)).toEqual({
      status: 401,
      message: 'This account is disabled. Ask your administrator to enable it.',
    });
    expect(await signInAnswer(person.email, 'not the password')).toEqual({
      status: 401,
      message: 'Incorrect email or password.',
    });
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub)).toEqual([]);

    // Enabled again: the person signs in; what ended stays ended.
    const enabled = await post(idp, consoleJar, `/admin/users/${person.sub}/enable`, { form_token: formToken });
    expect(locationPath(idp, enabled)).toBe(`/admin/users/${person.sub}?done=enabled`);
    expect((await signInAnswer(person.email, PASSWORD)).status).toBe(303);
    expect((await refresh(appB, b.refresh_token)).json.error).toBe('invalid_grant');
  });

  it('is refused by the mark alone: tokens and sign-ins in flight when the account was disabled', async () => {
    const person = await makePerson(idp, { name: 'in-flight' });
    const jar = createCookieJarClient();
    const a = await tokensFor(appA, person.email, jar, 'openid profile');
    const b = await tokensFor(appB, person.email, jar, 'openid offline_access');
    const deviceCode = await approvedOnTv(jar);
    // The mark, as disabling writes it first, before anything is ended.
    const { store, clock } = idp.issuer.ctx;
    expect(await store.users.setDisabled(person.sub, true, clock.now())).toBe(true);
    expect(await store.users.setDisabled(person.sub, true, clock.now())).toBe(false);
    const before = await tableDigests(store.database);
    expect((await refresh(appA, a.refresh_token)).json.error).toBe('invalid_grant');
    expect((await refresh(appB, b.refresh_token)).json.error).toBe('invalid_grant');
    expect(await userinfoStatus(a.access_token)).toBe(401);
    expect(await introspect(a.access_token)).toEqual({ active: false });
    expect(await introspect(a.refresh_token)).toEqual({ active: false });
    expect((await exchange(a.access_token)).json.error).toBe('invalid_request');
    expect((await pollTv(deviceCode)).json.error).toBe('invalid_grant');
    expect(await tableDigests(store.database)).toEqual(before);
  });

  it('is refused after the right second factor, when disabled between the password and the code', async () => {
    const person = await makePerson(idp, { totp: true, name: 'between' });
    const jar = createCookieJarClient();
    const start = await jar.fetch(at(idp, '/account'));
    const asked = await submitSignIn(
      jar,
      idp.url,
      new URL(start.headers.get('location')!, idp.url),
      person.email,
      PASSWORD,
    );
    expect(locationPath(idp, asked)).toMatch(/^\/sign-in\/factor\?/);
    const { store, clock } = idp.issuer.ctx;
    await store.users.setDisabled(person.sub, true, clock.now());
    const answer = await signInAsAsked(idp, jar, asked, person);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toContain('This account is disabled.');
    expect(await store.sessions.listActiveForUser(person.sub)).toEqual([]);
  });

  it('is refused at a passkey sign-in once the passkey was right, and not before', async () => {
    const person = await makePerson(idp, { name: 'passkey-holder' });
    const jar = createCookieJarClient();
    expect((await submitSignIn(jar, idp.url, at(idp, '/sign-in'), person.email, PASSWORD)).status).toBe(303);
    const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
    const addPage = await (await jar.fetch(at(idp, '/account/passkeys/new'))).text();
    const added = await post(idp, jar, '/account/passkeys', {
      csrf_token: formValue(addPage, 'csrf_token') ?? '',
      name: 'Laptop',
      credential: JSON.stringify(authenticator.create(passkeyOptionsIn(addPage, 'data-passkey-registration'))),
    });
    expect(added.status).toBe(303);
    await idp.issuer.ctx.store.users.setDisabled(person.sub, true, idp.clock.now());

    /** The passkey form of a new browser's sign-in page, answered by `authenticator` (or a stranger's). */
    const passkeySignIn = async (by: SoftwareAuthenticator) => {
      const browser = createCookieJarClient();
      const page = await (await browser.fetch(at(idp, '/sign-in'))).text();
      const res = await post(idp, browser, '/sign-in/passkey', {
        interaction: formValue(page, 'interaction') ?? '',
        csrf_token: formValue(page, 'csrf_token') ?? '',
        credential: JSON.stringify(
          by.get(passkeyOptionsIn(page, 'data-passkey-sign-in'), { credential: by.credentials[0]! }),
        ),
      });
      return { status: res.status, message: /<p class="error" role="alert">([^<]+)</.exec(await res.text())?.[1] };
    };
    expect(await passkeySignIn(authenticator)).toEqual({
      status: 401,
      message: 'This account is disabled. Ask your administrator to enable it.',
    });
    // A passkey the issuer does not know gets the generic refusal: the message tells nothing.
    const stranger = new SoftwareAuthenticator(new URL(idp.url).origin);
    stranger.create(passkeyOptionsIn(addPage, 'data-passkey-registration'));
    expect((await passkeySignIn(stranger)).message).not.toContain('disabled');
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub)).toHaveLength(1);
  });
});
