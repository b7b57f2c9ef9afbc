/**
 * Deleting an account, over HTTP from the account page and by the operator's CLI: every session
 * ends in the apps (back-channel logout), every refresh token is refused, the person's rows are
 * gone, the audit trail keeps the subject id and the fact of deletion without an IP address, and
 * the email can register again as a new subject. Bad input, a wrong password and CSRF change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from '../src/protocol/registration.js';
import { regenerateRecoveryCodes } from '../src/protocol/second-factor.js';
import { AccountWorld, type Device, type Person } from './support/account-people.js';
import { browserFlow, submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { PASSWORD, registration, sql, storedJson, useIssuer } from './support/fixture.js';
import { runCli } from './support/issuer-process.js';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3, pollMs: 100 } } });
let world: AccountWorld;
beforeAll(async () => {
  world = new AccountWorld(idp, fx, 'deletion');
  await world.start();
});
afterAll(() => world.stop());

const PATH = '/account/delete';

/** Tables with a column naming the person, and that column. */
const PERSONAL_ROWS = {
  users: 'id',
  sso_sessions: 'user_id',
  grants: 'user_id',
  consents: 'user_id',
  authorization_codes: 'user_id',
  device_authorizations: 'user_id',
  passkeys: 'user_id',
  totp_authenticators: 'user_id',
  recovery_codes: 'user_id',
} as const;

async function rowsOf(sub: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [table, column] of Object.entries(PERSONAL_ROWS))
    counts[table] = Number((await sql(idp, `select count(*) as n from ${table} where ${column} = ?`, sub))[0]?.n);
  return counts;
}

const auditOf = async (sub: string) =>
  (await sql(idp, 'select type, ip, client_id, detail from audit_events where subject = ? order by id', sub)).map(
    (r) => ({ type: r.type as string, ip: r.ip, detail: storedJson(r.detail) }),
  );

/** A person signed in on two devices (one with an offline grant), with recovery codes: rows in several tables. */
async function personWithDevices(prefix: string): Promise<{ person: Person; devices: Device[] }> {
  const person = await world.newPerson(prefix);
  const devices = [await world.signInDevice(person.email), await world.signInDevice(person.email, { offline: true })];
  const session = await idp.issuer.ctx.store.sessions.findById(devices[0]!.sid);
  await regenerateRecoveryCodes(idp.issuer.ctx, session!, '127.0.0.1');
  const rows = await rowsOf(person.sub);
  expect(rows).toMatchObject({ users: 1, sso_sessions: 2, grants: 2, recovery_codes: expect.any(Number) });
  expect(rows.recovery_codes).toBeGreaterThan(0);
  return { person, devices };
}

async function deleteFrom(device: Device, form: Record<string, string>, headers?: Record<string, string>) {
  const { csrfToken } = await world.page(device, PATH);
  return world.postForm(device, PATH, { csrf_token: csrfToken, ...form }, headers);
}

/** What every deletion must leave: the sessions ended in the app, tokens refused, rows gone, audit scrubbed. */
async function expectDeleted(person: Person, devices: Device[], by: string) {
  for (const device of devices) {
    const [claims] = await world.logoutTokensFor(device.sid);
    expect(claims).toMatchObject({ sub: person.sub, sid: device.sid });
    expect(await world.refresh(device)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(await world.stillSignedIn(device)).toBe(false);
    // Its access token stays revoked until it expires: its status-list bit is rebuilt from this row.
    const [token] = await sql(
      idp,
      'select grant_id, revoked_at from access_tokens where jti = ?',
      device.accessTokenJti,
    );
    expect(token?.grant_id).toBeNull();
    expect(token?.revoked_at).not.toBeNull();
  }
  expect(Object.values(await rowsOf(person.sub)).every((n) => n === 0)).toBe(true);
  const events = await auditOf(person.sub);
  // The record stays, about the subject id alone: no IP address, no email, no name.
  expect(events.length).toBeGreaterThan(3);
  expect(events.every((e) => e.ip === null)).toBe(true);
  const text = JSON.stringify(events);
  expect(text).not.toContain(person.email);
  expect(text).not.toContain('Person ');
  expect(events.at(-1)).toEqual({
    type: 'account.deleted',
    ip: null,
    detail: { by, sessions: 2, accessTokens: expect.any(Number) },
  });
  expect(events.map((e) => e.type)).toContain('account.access_ended');
  // Someone else's events keep theirs.
  expect((await sql(idp, 'select count(*) as n from audit_events where ip is not null'))[0]?.n).not.toBe(0);
}

describe('deleting one’s account on the account page', () => {
  it('links to it from the account page and shows the form, for a signed-in person only', async () => {
    const person = await world.newPerson('form');
    const device = await world.signInDevice(person.email);
    expect((await world.page(device, '/account')).html).toContain('href="/account/delete"');
    const { res, html } = await world.page(device, PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('name="confirm_email"');
    expect(html).toContain(person.email);
  });

  it('ends every session (back-channel logout), refuses refresh tokens, deletes rows, scrubs the audit', async () => {
    const { person, devices } = await personWithDevices('deletes');
    const res = await deleteFrom(devices[0]!, {
      current_password: PASSWORD,
      confirm_email: person.email.toUpperCase(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/deleted');
    expect(res.headers.get('set-cookie')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    const page = await devices[0]!.jar.fetch(`${idp.url}/account/deleted`);
    expect(await page.text()).toContain('Your account is deleted');
    await expectDeleted(person, devices, 'self');
    expect((await devices[0]!.jar.fetch(`${idp.url}/account`)).headers.get('location')).toBe('/sign-in');
  });

  it('lets the email register again, as a new subject; the old password signs nobody in', async () => {
    const { person, devices } = await personWithDevices('again');
    expect((await deleteFrom(devices[0]!, { current_password: PASSWORD, confirm_email: person.email })).status).toBe(
      303,
    );
    const client = { clientId: fx.publicClient.id, redirectUri: fx.redirectUri };
    await expect(browserFlow(idp.url, client, { email: person.email })).rejects.toThrow(/401/);
    const again = await registerUser(registration(idp), {
      email: person.email,
      displayName: 'Someone New',
      password: 'a different person entirely',
    });
    expect(again.sub).not.toBe(person.sub);
    await browserFlow(idp.url, client, { email: person.email, password: 'a different person entirely' });
  });

  it('deletes after a fresh sign-in with the password left empty (a passkey person has none to give)', async () => {
    const { person, devices } = await personWithDevices('fresh');
    const stale = idp.issuer.ctx.config.freshSignInWindow + 1;
    let signIn: URL;
    idp.clock.advance(stale);
    try {
      const before = await tableDigests(idp.issuer.ctx.store.database);
      const res = await deleteFrom(devices[0]!, { current_password: '', confirm_email: person.email });
      expect(res.status).toBe(303);
      signIn = new URL(res.headers.get('location')!, idp.url);
      expect(signIn.pathname).toBe('/sign-in');
      expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    } finally {
      idp.clock.advance(-stale);
    }
    // Signed in again (at the real time, so the logout tokens that follow are dated by it).
    const back = await submitSignIn(devices[0]!.jar, idp.url, signIn, person.email, PASSWORD);
    expect(back.headers.get('location')).toBe(`${PATH}?again=1`);
    expect((await world.page(devices[0]!, `${PATH}?again=1`)).html).toContain('your account is not deleted');
    expect((await rowsOf(person.sub)).users).toBe(1);
    const done = await deleteFrom(devices[0]!, { current_password: '', confirm_email: person.email });
    expect(done.headers.get('location')).toBe('/account/deleted');
    await expectDeleted(person, devices, 'self');
  });
});

describe('a deletion refused, with nothing changed', () => {
  let person: Person;
  let device: Device;
  beforeAll(async () => {
    person = await world.newPerson('refused');
    device = await world.signInDevice(person.email);
  });

  async function expectRefused(form: Record<string, string>, status: number, message: RegExp, token = true) {
    const { csrfToken } = await world.page(device, PATH);
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await world.postForm(device, PATH, { ...(token ? { csrf_token: csrfToken } : {}), ...form });
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toMatch(message);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  }

  it('refuses without the typed confirmation, or with another address (400)', async () => {
    const asked = /type your email address/;
    await expectRefused({ current_password: PASSWORD }, 400, asked);
    await expectRefused({ current_password: PASSWORD, confirm_email: 'someone@example.com' }, 400, asked);
    // Longer than any form value the issuer reads: refused before the form is looked at.
    await expectRefused({ current_password: PASSWORD, confirm_email: 'x'.repeat(5000) }, 400, /invalid_request/);
  });

  it('refuses a wrong password (401), counted and audited as at sign-in', async () => {
    await expectRefused({ current_password: 'not my password at all', confirm_email: person.email }, 401, /not your/);
    expect((await auditOf(person.sub)).at(-1)).toMatchObject({
      type: 'current_password.refused',
      detail: { action: 'account_deletion', reason: 'bad_credentials' },
    });
  });

  it('refuses a form without the CSRF token or from another origin (403)', async () => {
    const forbidden = /not sent from this site/;
    await expectRefused({ current_password: PASSWORD, confirm_email: person.email }, 403, forbidden, false);
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await deleteFrom(
      device,
      { current_password: PASSWORD, confirm_email: person.email },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  });

  it('refuses a duplicated field (400), never a 500', async () => {
    const { csrfToken } = await world.page(device, PATH);
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const res = await device.jar.fetch(`${idp.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: `csrf_token=${csrfToken}&confirm_email=${person.email}&confirm_email=x&current_password=${PASSWORD}`,
    });
    expect(res.status).toBe(400);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  });

  it('still has the account afterwards', async () => {
    expect((await rowsOf(person.sub)).users).toBe(1);
    expect(await world.stillSignedIn(device)).toBe(true);
  });
});

// The CLI starts a TypeScript process; on a loaded two-core machine that takes seconds.
describe('npm run idp -- users delete EMAIL', { timeout: 60_000 }, () => {
  const cli = (args: string[]) => runCli(idp.database, args, { TESSERA_ISSUER: idp.url });

  it('deletes the account as the page does: the running issuer tells the apps, tokens refused, rows gone', async () => {
    const { person, devices } = await personWithDevices('cli');
    const res = await cli(['users', 'delete', person.email, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ sub: person.sub, deleted: true, sessions_ended: 2 });
    await expectDeleted(person, devices, 'cli');
  });

  it('refuses an email with no account (exit 1), and a missing one (exit 2)', async () => {
    const none = await cli(['users', 'delete', 'nobody@example.com']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('error: no user with the email nobody@example.com\n');
    const missing = await cli(['users', 'delete']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('users delete takes one EMAIL');
  });
});
