/**
 * Changing the password on the account page, over HTTP: the current password (throttled like a
 * sign-in) or a fresh sign-in, the new one twice and under the policy; other devices signed out
 * (back-channel logout, their refresh tokens refused) only when asked; CSRF and bad input refused
 * with nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient } from '@tessera/shared/testing';
import { ACCOUNT_THROTTLE } from '../src/protocol/sign-in-throttle.js';
import { AccountWorld, type Device, type Person } from './support/account-people.js';
import { browserFlow, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { PASSWORD, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } } });
let world: AccountWorld;
beforeAll(async () => {
  world = new AccountWorld(idp, fx, 'password-change');
  await world.start();
});
afterAll(() => world.stop());

const NEW_PASSWORD = 'seven amber lanterns drifting';
const PATH = '/account/password';

async function change(device: Device, form: Record<string, string>, headers?: Record<string, string>) {
  const { csrfToken } = await world.page(device, PATH);
  return world.postForm(device, PATH, { csrf_token: csrfToken, ...form }, headers);
}

const valid = (extra: Record<string, string> = {}) => ({
  current_password: PASSWORD,
  new_password: NEW_PASSWORD,
  new_password_again: NEW_PASSWORD,
  ...extra,
});

/** Whether `password` signs `email` in now (a new browser, a real sign-in). */
async function signsIn(email: string, password: string): Promise<boolean> {
  const flow = browserFlow(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { email, password });
  return flow.then(
    () => true,
    (e: Error) => {
      expect(e.message).toMatch(/401/);
      return false;
    },
  );
}

const eventsOf = async (sub: string, type: string) =>
  (await sql(idp, 'select ip, detail from audit_events where subject = ? and type = ? order by id', sub, type)).map(
    (r) => ({ ip: r.ip, detail: storedJson(r.detail) }),
  );

describe('changing the password', () => {
  it('shows the form on the account page and on its own page, for a signed-in person only', async () => {
    const person = await world.newPerson('form');
    const device = await world.signInDevice(person.email);
    expect((await world.page(device, '/account')).html).toContain('href="/account/password"');
    const { res, html } = await world.page(device, PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('name="new_password_again"');
    expect(html).toContain('autocomplete="new-password"');
    const stranger = await createCookieJarClient().fetch(`${idp.url}${PATH}`);
    expect(stranger.status).toBe(303);
    expect(stranger.headers.get('location')).toBe('/sign-in');
  });

  it('changes it with the current password: the new one signs in, the old one no longer does, audited', async () => {
    const person = await world.newPerson('changes');
    const device = await world.signInDevice(person.email);
    const res = await change(device, valid());
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${PATH}?changed=1`);
    expect((await world.page(device, `${PATH}?changed=1`)).html).toContain('Your password was changed.');
    expect(await signsIn(person.email, NEW_PASSWORD)).toBe(true);
    expect(await signsIn(person.email, PASSWORD)).toBe(false);
    expect(await eventsOf(person.sub, 'password.changed')).toEqual([
      {
        ip: '127.0.0.1',
        detail: { proof: 'current_password', other_sessions_ended: 0, access_tokens_revoked: 0 },
      },
    ]);
  });

  it('stores the new password as argon2id, like every password', async () => {
    const person = await world.newPerson('argon');
    const device = await world.signInDevice(person.email);
    expect((await change(device, valid())).status).toBe(303);
    const [row] = await sql(idp, 'select password_hash from users where id = ?', person.sub);
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('keeps the other devices signed in, with working refresh tokens, when not asked to sign them out', async () => {
    const person = await world.newPerson('keeps');
    const other = await world.signInDevice(person.email);
    const offline = await world.signInDevice(person.email, { offline: true });
    const here = await world.signInDevice(person.email);
    expect((await change(here, valid())).status).toBe(303);
    expect(await world.stillSignedIn(other)).toBe(true);
    expect((await world.refresh(other)).status).toBe(200);
    expect((await world.refresh(offline)).status).toBe(200);
    expect(world.logoutTokensSoFar(other.sid)).toBe(0);
  });

  it('signs the other devices out when asked: back-channel logout, refresh tokens refused, offline too', async () => {
    const person = await world.newPerson('ends');
    const other = await world.signInDevice(person.email);
    const offline = await world.signInDevice(person.email, { offline: true });
    const here = await world.signInDevice(person.email);
    expect((await change(here, valid({ end_other_sessions: '1' }))).status).toBe(303);

    expect(await world.stillSignedIn(other)).toBe(false);
    expect(await world.refresh(other)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await world.refresh(offline)).toEqual({ status: 400, error: 'invalid_grant' });
    const [claims] = await world.logoutTokensFor(other.sid);
    expect(claims).toMatchObject({ sub: person.sub, sid: other.sid });
    await world.logoutTokensFor(offline.sid);
    // This device stays: signed in, its refresh token good.
    expect(await world.stillSignedIn(here)).toBe(true);
    expect((await world.refresh(here)).status).toBe(200);
    expect((await eventsOf(person.sub, 'password.changed'))[0]?.detail).toMatchObject({
      proof: 'current_password',
      other_sessions_ended: 2,
    });
  });
});

describe('a password change refused, with nothing changed', () => {
  async function expectRefused(
    device: Device,
    form: Record<string, string>,
    status: number,
    message: string | RegExp,
    headers?: Record<string, string>,
  ) {
    const { csrfToken } = await world.page(device, PATH);
    const before = await tableDigests(idp.issuer.ctx.store.database);
    // A status of 403 without a custom header: the form is sent without its token.
    const token = status === 403 && !headers ? {} : { csrf_token: csrfToken };
    const res = await world.postForm(device, PATH, { ...token, ...form }, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toMatch(message);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  }

  let person: Person;
  let device: Device;
  beforeAll(async () => {
    person = await world.newPerson('refused');
    device = await world.signInDevice(person.email);
  });

  it('refuses a wrong current password (401), and audits it', async () => {
    await expectRefused(
      device,
      valid({ current_password: 'not my password at all' }),
      401,
      'not your current password',
    );
    expect(await eventsOf(person.sub, 'current_password.refused')).toContainEqual({
      ip: '127.0.0.1',
      detail: { action: 'password_change', reason: 'bad_credentials' },
    });
  });

  it('refuses a new password under the policy, with its reason (400)', async () => {
    await expectRefused(
      device,
      valid({ new_password: 'too short', new_password_again: 'too short' }),
      400,
      /at least 15/,
    );
    await expectRefused(
      device,
      valid({ new_password: 'passwordpassword', new_password_again: 'passwordpassword' }),
      400,
      /too common/,
    );
    await expectRefused(
      device,
      valid({ new_password: person.email, new_password_again: person.email }),
      400,
      /your email address or your name/,
    );
  });

  it('refuses two new passwords that differ (400)', async () => {
    await expectRefused(device, valid({ new_password_again: `${NEW_PASSWORD}!` }), 400, /two new passwords differ/);
  });

  it('refuses missing fields and a new password beyond the longest accepted (400)', async () => {
    await expectRefused(device, { current_password: PASSWORD }, 400, /at least 15/);
    const long = 'x'.repeat(1025);
    await expectRefused(device, valid({ new_password: long, new_password_again: long }), 400, /at most 1024/);
  });

  it('refuses a form without the CSRF token, with another session’s, or from another origin (403)', async () => {
    const forbidden = /not sent from this site/;
    const otherDevice = await world.signInDevice(person.email);
    const { csrfToken: othersToken } = await world.page(otherDevice, PATH);
    await expectRefused(device, valid(), 403, forbidden);
    await expectRefused(device, valid(), 403, forbidden, { origin: 'https://evil.example' });
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const withOthersToken = await world.postForm(device, PATH, { csrf_token: othersToken, ...valid() });
    expect(withOthersToken.status).toBe(403);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    expect(await signsIn(person.email, PASSWORD)).toBe(true);
  });

  it('refuses a duplicated field and a body that is not a form (400), never a 500', async () => {
    const { csrfToken } = await world.page(device, PATH);
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const duplicated = await device.jar.fetch(`${idp.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: `csrf_token=${csrfToken}&new_password=${NEW_PASSWORD}&new_password=other&new_password_again=x`,
    });
    expect(duplicated.status).toBe(400);
    const json = await device.jar.fetch(`${idp.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: idp.url },
      body: JSON.stringify(valid()),
    });
    expect(json.status).toBe(400);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  });
});

describe('wrong current passwords, throttled like sign-in', () => {
  it('blocks tries past the sign-in threshold, the right password too (429), on the sign-in’s counter', async () => {
    const person = await world.newPerson('throttled');
    const device = await world.signInDevice(person.email);
    for (let i = 0; i < ACCOUNT_THROTTLE.threshold; i++) {
      const res = await change(device, valid({ current_password: `wrong password ${i}` }));
      expect(res.status).toBe(401);
    }
    // Back 30 s in time, so the backoff (1 s at the threshold) is sure to hold while the machine is slow.
    idp.clock.advance(-30);
    try {
      // The account is in backoff: even the right current password is refused for now, as at sign-in.
      const blocked = await change(device, valid());
      expect(blocked.status).toBe(429);
      expect(await blocked.text()).toMatch(/Too many wrong passwords/);
      expect(await eventsOf(person.sub, 'current_password.refused')).toContainEqual({
        ip: '127.0.0.1',
        detail: { action: 'password_change', reason: 'throttled' },
      });
      // The same counter as the sign-in's: signing in with the right password is refused meanwhile.
      expect(await signsIn(person.email, PASSWORD)).toBe(false);
    } finally {
      idp.clock.advance(30);
    }
    // Once the delay is over, the right current password changes it.
    idp.clock.advance(2);
    try {
      expect((await change(device, valid())).status).toBe(303);
      expect(await signsIn(person.email, NEW_PASSWORD)).toBe(true);
    } finally {
      idp.clock.advance(-2);
    }
  });
});

describe('changing the password without it, after a fresh sign-in', () => {
  it('sends a stale session to sign in again, then changes it with the current password left empty', async () => {
    const person = await world.newPerson('fresh');
    const device = await world.signInDevice(person.email);
    const stale = idp.issuer.ctx.config.freshSignInWindow + 1;
    idp.clock.advance(stale);
    try {
      const before = await tableDigests(idp.issuer.ctx.store.database);
      const res = await change(device, valid({ current_password: '' }));
      expect(res.status).toBe(303);
      const signIn = new URL(res.headers.get('location')!, idp.url);
      expect(signIn.pathname).toBe('/sign-in');
      expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
      // Signed in again, the person comes back to the form; now an empty current password will do.
      const again = await submitSignIn(device.jar, idp.url, signIn, person.email, PASSWORD);
      expect(again.headers.get('location')).toBe(`${PATH}?again=1`);
      // The page says the change was not made, and nothing is replayed: the form is sent again.
      expect((await world.page(device, `${PATH}?again=1`)).html).toContain('your password is unchanged');
      expect(await signsIn(person.email, PASSWORD)).toBe(true);
      const done = await change(device, valid({ current_password: '' }));
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`${PATH}?changed=1`);
      expect(await signsIn(person.email, NEW_PASSWORD)).toBe(true);
      expect((await eventsOf(person.sub, 'password.changed'))[0]?.detail).toMatchObject({ proof: 'fresh_sign_in' });
    } finally {
      idp.clock.advance(-stale);
    }
  });
});
