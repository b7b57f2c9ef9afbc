/**
 * CSRF defences of every state-changing form of the issuer (OWASP CSRF Prevention): the token
 * AND the origin (Origin, or Sec-Fetch-Site when Origin is `null` or absent). Each refusal is a
 * 403 that changes nothing; the same form from the issuer's own page goes through.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { browserFlow } from './support/browser.js';
import { countRows, PASSWORD, registerPerson, useIssuer } from './support/fixture.js';
import { accountPage, consentPage, logoutConfirmPage, signInPage } from './support/pages.js';

const { idp, fx } = useIssuer();

interface Form {
  jar: CookieJarClient;
  path: string;
  fields: Record<string, string>;
  /** What the form changes: a count that must not move when it is refused. */
  state: () => Promise<number>;
}

const activeSessions = () => countRows(idp, 'sso_sessions', 'ended_at is null');

let people = 0;
/** A person of the form's own, signed in at the issuer, on the account page at `path`. */
async function ownPersonAt(path: string): Promise<{ jar: CookieJarClient; csrfToken: string; email: string }> {
  const email = `csrf-${++people}@example.com`;
  await registerPerson(idp, email);
  const jar = createCookieJarClient();
  await browserFlow(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { email }, jar);
  const html = await (await jar.fetch(`${idp.url}${path}`)).text();
  return { jar, csrfToken: formValue(html, 'csrf_token')!, email };
}

const FORMS: Record<string, () => Promise<Form>> = {
  'sign-in': async () => {
    const p = await signInPage(idp, fx);
    return {
      jar: p.jar,
      path: '/sign-in',
      fields: {
        interaction: p.interaction!,
        csrf_token: p.csrfToken!,
        email: 'alice@example.com',
        password: 'correct horse battery staple',
      },
      state: activeSessions,
    };
  },
  consent: async () => {
    const p = await consentPage(idp, fx);
    return {
      jar: p.jar,
      path: '/consent',
      fields: { interaction: p.interaction!, csrf_token: p.csrfToken!, decision: 'allow' },
      state: () => countRows(idp, 'consents'),
    };
  },
  'logout confirmation': async () => {
    const p = await logoutConfirmPage(idp, fx);
    return {
      jar: p.jar,
      path: '/logout/confirm',
      fields: {
        csrf_token: p.csrfToken!,
        client_id: fx.confidential.id,
        post_logout_redirect_uri: 'http://127.0.0.1:9/',
        state: 'st',
      },
      state: activeSessions,
    };
  },
  'account: sign out everywhere': async () => {
    const p = await accountPage(idp, fx);
    return {
      jar: p.jar,
      path: '/account/sign-out-everywhere',
      fields: { csrf_token: p.csrfToken! },
      state: activeSessions,
    };
  },
  'account: sign out a device': async () => {
    const p = await accountPage(idp, fx);
    const sid = /action="\/account\/devices\/([^/]+)\/end"/.exec(p.html)![1]!;
    return {
      jar: p.jar,
      path: `/account/devices/${sid}/end`,
      fields: { csrf_token: p.csrfToken! },
      state: activeSessions,
    };
  },
  'account: change password': async () => {
    const p = await ownPersonAt('/account/password');
    const password = 'a brand new passphrase here';
    return {
      jar: p.jar,
      path: '/account/password',
      fields: {
        csrf_token: p.csrfToken,
        current_password: PASSWORD,
        new_password: password,
        new_password_again: password,
      },
      // Each change is audited, and only a change is.
      state: () => countRows(idp, 'audit_events', "type = 'password.changed'"),
    };
  },
  'account: delete': async () => {
    const p = await ownPersonAt('/account/delete');
    return {
      jar: p.jar,
      path: '/account/delete',
      fields: { csrf_token: p.csrfToken, current_password: PASSWORD, confirm_email: p.email },
      state: () => countRows(idp, 'users'),
    };
  },
};

function post(form: Form, fields: Record<string, string>, headers: Record<string, string>): Promise<Response> {
  return form.jar.fetch(`${idp.url}${form.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    body: new URLSearchParams(fields),
  });
}

const dropToken = (fields: Record<string, string>) =>
  Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'csrf_token'));

const REFUSALS: [string, (f: Form) => [Record<string, string>, Record<string, string>]][] = [
  [
    'a cross-site Origin, even with the token',
    (f) => [f.fields, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ],
  [
    'a missing token, from the issuer itself',
    (f) => [dropToken(f.fields), { origin: new URL(idp.url).origin, 'sec-fetch-site': 'same-origin' }],
  ],
  [
    'a wrong token, from the issuer itself',
    (f) => [{ ...f.fields, csrf_token: 'A'.repeat(43) }, { origin: new URL(idp.url).origin }],
  ],
  [
    'Origin: null from another site (a sandboxed frame), even with the token',
    (f) => [f.fields, { origin: 'null', 'sec-fetch-site': 'cross-site' }],
  ],
  ['Origin: null without Sec-Fetch-Site, even with the token', (f) => [f.fields, { origin: 'null' }]],
  [
    'no Origin but Sec-Fetch-Site: cross-site, even with the token',
    (f) => [f.fields, { 'sec-fetch-site': 'cross-site' }],
  ],
];

describe.each(Object.keys(FORMS))('the %s form', (name) => {
  it.each(REFUSALS)('refuses %s with 403 and changes nothing', async (_, make) => {
    const form = await FORMS[name]!();
    const before = await form.state();
    const [fields, headers] = make(form);
    const res = await post(form, fields, headers);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<code>invalid_request</code>');
    expect(await form.state()).toBe(before);
  });

  it('goes through with Origin: null and Sec-Fetch-Site: same-origin (our Referrer-Policy: no-referrer)', async () => {
    const form = await FORMS[name]!();
    const res = await post(form, form.fields, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(303);
  });
});

describe('no state change on GET', () => {
  it.each([
    '/logout/confirm',
    '/account/sign-out-everywhere',
    '/account/devices/x/end',
    '/consent?decision=allow',
    '/account/password?current_password=x&new_password=y',
    '/account/delete?confirm_email=alice@example.com',
  ])('GET %s changes nothing', async (path) => {
    const form = await FORMS['account: sign out everywhere']!();
    const before = await activeSessions();
    const res = await form.jar.fetch(`${idp.url}${path}`);
    expect(res.status).not.toBe(303);
    expect(await activeSessions()).toBe(before);
  });
});
