/**
 * The admin console over real HTTP: who may open it (an admin, signed in recently, with two
 * factors), CSRF refusals (the form token and the same-origin check, each on its own), bad input on
 * every form and filter (a clear error, no stored data changed), and every change audited with
 * the admin's `sub` as its actor.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient } from '@tessera/shared/testing';
import { confirmTotpEnrolment, startTotpEnrolment } from '../src/protocol/second-factor.js';
import { CLI_OPERATOR, setAdminRole } from '../src/protocol/users-admin.js';
import { submitSignIn } from './support/browser.js';
import {
  at,
  codeNow,
  consoleBrowser,
  locationPath,
  makePerson,
  post,
  signInAsAsked,
  type Person,
} from './support/admin-console.js';
import { tableDigests } from './support/db-digest.js';
import { expectPageSecurityHeaders } from './support/pages.js';
import { PASSWORD, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp } = useIssuer();

const digest = () => tableDigests(idp.issuer.ctx.store.database);

async function auditOf(type: string, subject: string) {
  const rows = await sql(idp, 'select * from audit_events where type = ? and subject = ? order by id', type, subject);
  return rows.map((r) => ({ ...r, detail: storedJson(r.detail) }));
}

describe('who may open the console', () => {
  it('sends a browser that is not signed in to sign in, and back to the console', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'admin' });
    const jar = createCookieJarClient();
    const res = await jar.fetch(at(idp, '/admin'));
    expect(res.status).toBe(303);
    expect(locationPath(idp, res)).toMatch(/^\/sign-in\?interaction=/);
    const back = await signInAsAsked(idp, jar, res, admin);
    expect(locationPath(idp, back)).toBe('/admin');
    const page = await jar.fetch(at(idp, '/admin'));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`Signed in as ${admin.email} (admin)`);
    // Every console page: no framing, no inline code, no Referer, never cached.
    for (const path of ['/admin', '/admin/users?q=a', `/admin/users/${admin.sub}`, '/admin/audit', '/admin/keys']) {
      const res = await jar.fetch(at(idp, path));
      expect(res.status, path).toBe(200);
      expectPageSecurityHeaders(res);
    }
  });

  it('answers 403 to a signed-in person who is not an admin, on every page and form', async () => {
    const person = await makePerson(idp, { name: 'plain' });
    const jar = createCookieJarClient();
    const signedIn = await signInAsAsked(idp, jar, await jar.fetch(at(idp, '/admin')), person);
    expect(locationPath(idp, signedIn)).toBe('/admin');
    for (const path of ['/admin', '/admin/users?q=a', `/admin/users/${person.sub}`, '/admin/audit', '/admin/keys']) {
      const res = await jar.fetch(at(idp, path));
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('for administrators only');
    }
    const before = await digest();
    const res = await post(idp, jar, `/admin/users/${person.sub}/end-sessions`, { form_token: 'x' });
    expect(res.status).toBe(403);
    expect(await digest()).toEqual(before);
  });

  it('asks an admin signed in with a password alone for a second factor first', async () => {
    const admin = await makePerson(idp, { admin: true, name: 'one-factor' });
    const jar = createCookieJarClient();
    const signedIn = await signInAsAsked(idp, jar, await jar.fetch(at(idp, '/admin')), admin);
    expect(locationPath(idp, signedIn)).toBe('/admin');
    // A password alone: the factor page for the missing factor, not the console.
    const res = await jar.fetch(at(idp, '/admin'));
    expect(res.status).toBe(303);
    expect(locationPath(idp, res)).toMatch(/^\/sign-in\/factor\?interaction=/);
    // With none enrolled, the page says how to set one up; the console stays shut.
    const factorPage = await jar.fetch(at(idp, locationPath(idp, res)!));
    expect(factorPage.status).toBe(200);
    expect((await jar.fetch(at(idp, '/admin/keys'))).status).toBe(303);
  });

  it('gives the missing factor on the factor page and comes back (a step-up of the same session)', async () => {
    // Signed in with a password alone, then an authenticator app enrolled: the session lacks it.
    const admin = await makePerson(idp, { admin: true, name: 'enrols-later' });
    const jar = createCookieJarClient();
    await signInAsAsked(idp, jar, await jar.fetch(at(idp, '/admin')), admin);
    const { ctx } = idp.issuer;
    const user = (await ctx.store.users.findBySub(admin.sub))!;
    const enrolment = (await startTotpEnrolment(ctx, user))!;
    expect(await confirmTotpEnrolment(ctx, user, codeNow(idp, enrolment.secret), '127.0.0.1')).toBe(true);
    idp.clock.advance(30);
    const [before] = await ctx.store.sessions.listActiveForUser(admin.sub);
    const asked = await jar.fetch(at(idp, '/admin'));
    expect(locationPath(idp, asked)).toMatch(/^\/sign-in\/factor\?interaction=/);
    const back = await signInAsAsked(idp, jar, asked, { ...admin, secret: enrolment.secret });
    expect(locationPath(idp, back)).toBe('/admin');
    expect((await jar.fetch(at(idp, '/admin'))).status).toBe(200);
    const [after] = await ctx.store.sessions.listActiveForUser(admin.sub);
    expect({ sid: after?.id, amr: after?.amr }).toEqual({ sid: before?.id, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('sends an admin whose sign-in is older than the fresh sign-in window to sign in again', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'stale' });
    const { jar } = await consoleBrowser(idp, admin);
    idp.clock.advance(idp.issuer.ctx.config.freshSignInWindow + 1);
    const res = await jar.fetch(at(idp, '/admin/users'));
    expect(res.status).toBe(303);
    expect(locationPath(idp, res)).toMatch(/^\/sign-in\?interaction=/);
    // Signed in again with both factors, back to the page it was on.
    const back = await signInAsAsked(idp, jar, res, admin);
    expect(locationPath(idp, back)).toBe('/admin/users');
    expect((await jar.fetch(at(idp, '/admin/users'))).status).toBe(200);
  });

  it('makes no change posted with a stale session, and says so once the admin is back', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'stale-change' });
    const target = await makePerson(idp, { name: 'stale-target' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    idp.clock.advance(idp.issuer.ctx.config.freshSignInWindow + 1);
    const before = await digest();
    const res = await post(idp, jar, `/admin/users/${target.sub}/disable`, { form_token: formToken });
    expect(locationPath(idp, res)).toMatch(/^\/sign-in\?interaction=/);
    expect(await digest()).toEqual(before);
    const back = await signInAsAsked(idp, jar, res, admin);
    expect(locationPath(idp, back)).toBe('/admin/users?again=1');
    expect(await (await jar.fetch(at(idp, '/admin/users?again=1'))).text()).toContain('nothing was changed');
    expect((await idp.issuer.ctx.store.users.findBySub(target.sub))?.disabledAt).toBeNull();
  });

  it('shuts the console to an admin whose role the CLI took back, at their next request', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'revoked' });
    const { jar } = await consoleBrowser(idp, admin);
    expect(await setAdminRole(idp.issuer.ctx, admin.email, false, CLI_OPERATOR)).toBe(true);
    expect((await jar.fetch(at(idp, '/admin'))).status).toBe(403);
  });
});

describe('CSRF', () => {
  async function setUp() {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'csrf-admin' });
    const target = await makePerson(idp, { name: 'csrf-target' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    return { admin, target, jar, formToken };
  }

  it('refuses a change without the form token, or with another one, audited, nothing changed', async () => {
    const { admin, target, jar, formToken } = await setUp();
    const other = await consoleBrowser(idp, admin);
    expect(other.formToken).not.toBe(formToken);
    for (const body of [{}, { form_token: '' }, { form_token: 'x'.repeat(43) }, { form_token: other.formToken }]) {
      const before = await digest();
      const res = await post(idp, jar, `/admin/users/${target.sub}/disable`, body);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('not sent from this console');
      expect(await digest()).toEqual(before);
    }
    const refusals = await auditOf('admin.form_refused', admin.sub);
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    expect(refusals.at(-1)?.detail).toEqual({ path: `/admin/users/${target.sub}/disable` });
  });

  it('refuses a change from another origin even with the right token', async () => {
    const { target, jar, formToken } = await setUp();
    const crossSite = [
      { origin: 'https://evil.example' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const before = await digest();
      const res = await post(idp, jar, `/admin/users/${target.sub}/disable`, { form_token: formToken }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await digest()).toEqual(before);
    }
    // The same form from the console itself is accepted.
    const ok = await post(idp, jar, `/admin/users/${target.sub}/disable`, { form_token: formToken });
    expect(ok.status).toBe(303);
  });

  it('makes the form token of one session useless in another session of the same admin', async () => {
    const { admin, target, formToken } = await setUp();
    const second = await consoleBrowser(idp, admin);
    const res = await post(idp, second.jar, `/admin/users/${target.sub}/end-sessions`, { form_token: formToken });
    expect(res.status).toBe(403);
  });
});

describe('bad input', () => {
  it('answers every malformed form and filter with a clear error and changes nothing', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'input-admin' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const pages: [string, number, string][] = [
      [`/admin/users?q=${'a'.repeat(321)}`, 400, 'Search for at most 320 characters.'],
      ['/admin/users/no-such-person', 404, 'There is no such account.'],
      [`/admin/users/${'x'.repeat(65)}`, 404, 'There is no such account.'],
      ['/admin/users/bad%20sub', 404, 'There is no such account.'],
      ['/admin/audit?type=DROP%20TABLE', 400, 'Type must be an event type such as user.disabled.'],
      ['/admin/audit?person=nobody%40example.com', 400, 'No account has that email.'],
      ['/admin/audit?person=%3Cscript%3E', 400, 'Person must be an email address or a sub.'],
      [`/admin/audit?client=${'c'.repeat(129)}`, 400, 'Client id must be 1 to 128 visible characters.'],
      ['/admin/audit?since=yesterday', 400, 'From must be a date and time, such as 2025-03-04T17:05.'],
      ['/admin/audit?until=2025-02-31T10:00', 400, 'To is not a real date and time.'],
      ['/admin/audit?since=2025-03-02T00:00&until=2025-03-01T00:00', 400, 'From must not be after To.'],
      ['/admin/audit?before=-1', 400, 'That page does not exist.'],
      ['/admin/audit?before=99999999999999999999', 400, 'That page does not exist.'],
    ];
    for (const [path, status, message] of pages) {
      const before = await digest();
      const res = await jar.fetch(at(idp, path));
      expect(res.status, path).toBe(status);
      const text = await res.text();
      expect(text, path).toContain(message);
      expect(text).not.toContain('<script>');
      expect(await digest()).toEqual(before);
    }
    const forms: [string, number][] = [
      ['/admin/users/no-such-person/disable', 404],
      ['/admin/users/no-such-person/enable', 404],
      ['/admin/users/no-such-person/end-sessions', 404],
      [`/admin/users/${'y'.repeat(70)}/disable`, 404],
      [`/admin/users/${admin.sub}/disable`, 409],
      [`/admin/users/${admin.sub}/delete`, 404],
    ];
    for (const [path, status] of forms) {
      const before = await digest();
      const res = await post(idp, jar, path, { form_token: formToken });
      expect(res.status, path).toBe(status);
      expect(await digest()).toEqual(before);
    }
    const self = await post(idp, jar, `/admin/users/${admin.sub}/disable`, { form_token: formToken });
    expect(await self.text()).toContain('You cannot disable your own account.');
  });

  it('finds people by part of an email or name, LIKE wildcards taken literally, at most 25', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'search-admin' });
    for (let i = 0; i < 27; i++) await makePerson(idp, { name: 'many' });
    const { jar } = await consoleBrowser(idp, admin);
    const many = await (await jar.fetch(at(idp, '/admin/users?q=MANY-'))).text();
    expect(many.match(/<tr>\s*<td><a href="\/admin\/users\//g)).toHaveLength(25);
    expect(many).toContain('Only the first 25 are shown');
    const wildcard = await (await jar.fetch(at(idp, '/admin/users?q=%25'))).text();
    expect(wildcard).toContain('Nobody matches.');
    const underscore = await (await jar.fetch(at(idp, '/admin/users?q=search_admin'))).text();
    expect(underscore).toContain('Nobody matches.');
    const byName = await (await jar.fetch(at(idp, '/admin/users?q=search-admin'))).text();
    expect(byName).toContain(admin.email);
  });
});

describe('changes, each audited with the admin as actor', () => {
  it('disables, enables and ends the sessions of a person; shows how they signed in', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'actor' });
    const target: Person = await makePerson(idp, { name: 'target' });
    const targetJar = createCookieJarClient();
    const signedIn = await submitSignIn(targetJar, idp.url, at(idp, '/sign-in'), target.email, PASSWORD);
    expect(signedIn.status).toBe(303);
    const { jar, formToken } = await consoleBrowser(idp, admin);

    const view = await (await jar.fetch(at(idp, `/admin/users/${target.sub}`))).text();
    expect(view).toContain(target.email);
    expect(view).toMatch(/<td>password<\/td>/);
    expect(view).toContain('Disable account');

    const ended = await post(idp, jar, `/admin/users/${target.sub}/end-sessions`, { form_token: formToken });
    expect(locationPath(idp, ended)).toBe(`/admin/users/${target.sub}?done=sessions-ended`);
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(target.sub)).toEqual([]);
    expect((await auditOf('account.access_ended', target.sub)).map((e) => e.detail)).toEqual([
      { actor: admin.sub, reason: 'ended_by_admin', sessions: 1, accessTokens: 0 },
    ]);

    const disabled = await post(idp, jar, `/admin/users/${target.sub}/disable`, { form_token: formToken });
    expect(locationPath(idp, disabled)).toBe(`/admin/users/${target.sub}?done=disabled`);
    const shown = await (await jar.fetch(at(idp, locationPath(idp, disabled)!))).text();
    expect(shown).toContain('The account is disabled');
    expect(shown).toContain('Enable account');
    const again = await post(idp, jar, `/admin/users/${target.sub}/disable`, { form_token: formToken });
    expect(locationPath(idp, again)).toBe(`/admin/users/${target.sub}?done=unchanged`);
    const enabled = await post(idp, jar, `/admin/users/${target.sub}/enable`, { form_token: formToken });
    expect(locationPath(idp, enabled)).toBe(`/admin/users/${target.sub}?done=enabled`);

    for (const type of ['user.disabled', 'user.enabled']) {
      const events = await auditOf(type, target.sub);
      expect(events.map((e) => e.detail)).toEqual([{ actor: admin.sub }]);
      expect((events[0] as { ip?: unknown } | undefined)?.ip).toBe('127.0.0.1');
    }
  });

  it('rotates the signing keys as `keys rotate` does, refused while the next key is too new', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'keys-admin' });
    // The next key has been published for one JWKS max-age: it may sign.
    idp.clock.advance(idp.issuer.ctx.config.jwksMaxAge + 1);
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const list = await (await jar.fetch(at(idp, '/admin/keys'))).text();
    expect(list).toMatch(/<td>current<\/td>/);
    expect(list).toMatch(/<td>next<\/td>/);
    const currentKid = async () => (await sql(idp, "select kid from signing_keys where state = 'current'"))[0]?.kid;
    const [next] = await sql(idp, "select kid from signing_keys where state = 'next'");
    const rotated = await post(idp, jar, '/admin/keys/rotate', { form_token: formToken });
    expect(locationPath(idp, rotated)).toBe('/admin/keys?done=rotated');
    expect(await currentKid()).toBe(next?.kid);
    const [event] = await sql(idp, "select detail from audit_events where type = 'key.rotated' order by id desc");
    expect(storedJson(event?.detail)).toMatchObject({ trigger: 'command', forced: false, actor: admin.sub });
    // The new next key was published just now: a second rotation is refused, and changes nothing.
    const before = await digest();
    const early = await post(idp, jar, '/admin/keys/rotate', { form_token: formToken });
    expect(early.status).toBe(409);
    expect(await early.text()).toMatch(/class="error" role="alert">[^<]+</);
    expect(await digest()).toEqual(before);
  });

  it('pages and filters the audit trail', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'audit-admin' });
    // More than a page of events: each person made is created, and made an admin.
    for (let i = 0; i < 26; i++) await makePerson(idp, { admin: true, name: 'audited' });
    const { jar } = await consoleBrowser(idp, admin);
    const page = async (query: string) => (await jar.fetch(at(idp, `/admin/audit?${query}`))).text();
    const first = await page('');
    expect(first.match(/<tr>\s*<td><time/g)).toHaveLength(50);
    const older = /href="\/admin\/audit\?([^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    expect(older).toMatch(/before=\d+/);
    const second = await page(older!);
    const ids = (html: string) => [...html.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
    expect(ids(second).length).toBeGreaterThan(0);
    const byPerson = await page(`person=${encodeURIComponent(admin.email)}&type=admin.granted`);
    expect(byPerson.match(/<tr>\s*<td><time/g)).toHaveLength(1);
    expect(byPerson).toContain(`{&quot;actor&quot;:&quot;cli&quot;}`);
    const future = await page('since=2999-01-01T00:00');
    expect(future).toContain('No event matches.');
  });
});
