/**
 * The admin console as its tests reach it: an admin made as the CLI makes one, with an
 * authenticator app enrolled through the protocol functions the account page uses, signed in
 * over HTTP with the password and a code, as a browser does.
 */
import { expect } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/protocol/second-factor.js';
import { CLI_OPERATOR, setAdminRole } from '../../src/protocol/users-admin.js';
import { submitSignIn } from './browser.js';
import { PASSWORD, registerPerson, type RunningIssuer } from './fixture.js';

export interface Person {
  email: string;
  sub: string;
  /** The base32 TOTP secret, when one is enrolled. */
  secret?: string;
}

let made = 0;
/** A new person, an admin when `admin`, with an authenticator app when `totp`. */
export async function makePerson(
  idp: RunningIssuer,
  opts: { admin?: boolean; totp?: boolean; name?: string } = {},
): Promise<Person> {
  const email = `${opts.name ?? 'person'}-${++made}@example.com`;
  const user = await registerPerson(idp, email, `${opts.name ?? 'Person'} ${made}`);
  const { ctx } = idp.issuer;
  if (opts.admin) expect(await setAdminRole(ctx, email, true, CLI_OPERATOR)).toBe(true);
  if (!opts.totp) return { email, sub: user.sub };
  const enrolment = (await startTotpEnrolment(ctx, user))!;
  expect(await confirmTotpEnrolment(ctx, user, codeNow(idp, enrolment.secret), '127.0.0.1')).toBe(true);
  // The next code is of a later step: the one just used is spent.
  idp.clock.advance(30);
  return { email, sub: user.sub, secret: enrolment.secret };
}

/** The code the person's app shows now, by the issuer's clock. */
export const codeNow = (idp: RunningIssuer, secret: string) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: idp.clock.now(),
  });

export const at = (idp: RunningIssuer, path: string) => new URL(path, idp.url);

/** A same-origin form POST, as the console's pages send it. */
export const post = (
  idp: RunningIssuer,
  jar: CookieJarClient,
  path: string,
  body: Record<string, string>,
  headers: Record<string, string> = { origin: idp.url },
) =>
  jar.fetch(at(idp, path), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });

/** Where a redirect goes, as a path with its query. */
export const locationPath = (idp: RunningIssuer, res: Response): string | undefined => {
  const to = res.headers.get('location');
  if (to === null) return undefined;
  const url = new URL(to, idp.url);
  return url.pathname + url.search;
};

/**
 * Follows the sign-in the console asked for, in `jar`, from `res` (a redirect to /sign-in or to
 * the factor page): the password, then the code when asked. Returns the last answer.
 */
export async function signInAsAsked(idp: RunningIssuer, jar: CookieJarClient, res: Response, person: Person) {
  let answer = res;
  let to = locationPath(idp, answer);
  if (to?.startsWith('/sign-in?')) {
    answer = await submitSignIn(jar, idp.url, at(idp, to), person.email, PASSWORD);
    to = locationPath(idp, answer);
  }
  if (to?.startsWith('/sign-in/factor?') && person.secret) {
    const page = await (await jar.fetch(at(idp, to))).text();
    answer = await post(idp, jar, '/sign-in/factor', {
      interaction: formValue(page, 'interaction') ?? '',
      csrf_token: formValue(page, 'csrf_token') ?? '',
      method: 'totp',
      code: codeNow(idp, person.secret),
    });
    // A code is good once: the next sign-in needs the next step's.
    idp.clock.advance(30);
  }
  return answer;
}

/** A browser of `admin` (password and code) with the console open: its jar and its form token. */
export async function consoleBrowser(idp: RunningIssuer, admin: Person) {
  const jar = createCookieJarClient();
  const asked = await jar.fetch(at(idp, '/admin'));
  const signedIn = await signInAsAsked(idp, jar, asked, admin);
  expect(locationPath(idp, signedIn)).toBe('/admin');
  const page = await jar.fetch(at(idp, '/admin/users'));
  expect(page.status).toBe(200);
  const formToken = await formTokenOf(jar, idp, '/admin/keys');
  return { jar, formToken };
}

/** The console's form token, read from one of its pages that has a form. */
export async function formTokenOf(jar: CookieJarClient, idp: RunningIssuer, path: string): Promise<string> {
  const token = formValue(await (await jar.fetch(at(idp, path))).text(), 'form_token');
  expect(token).toBeDefined();
  return token!;
}
