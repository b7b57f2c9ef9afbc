/**
 * A passkey as the second factor after a password, at the protocol level (the factor page that
 * offers it is the sign-in's second step): the ceremony lists the person's passkeys, its challenge
 * is bound to their session, and only their own passkey adds to the session — another person's is
 * refused, audited, and changes nothing.
 */
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { describe, expect, it } from 'vitest';
import { PasskeyRefused, provePasskeyFactor, startPasskeyFactor } from '../src/protocol/passkeys.js';
import { addFactorToSession } from '../src/protocol/sso-session.js';
import type { SsoSession } from '../src/store/index.js';
import { SoftwareAuthenticator } from './support/authenticator.js';
import { submitSignIn } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { PASSWORD, registerPerson, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp } = useIssuer();

const post = (jar: CookieJarClient, path: string, form: Record<string, string>) =>
  jar.fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.url).origin },
    body: new URLSearchParams(form),
  });

let people = 0;
/** A person signed in with their password, with a passkey added at the account page. */
async function personWithPasskey(): Promise<{ sub: string; authenticator: SoftwareAuthenticator }> {
  const email = `factor-${++people}@example.com`;
  const { sub } = await registerPerson(idp, email);
  const jar = createCookieJarClient();
  expect((await submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), email, PASSWORD)).status).toBe(303);
  const html = await (await jar.fetch(new URL('/account/passkeys/new', idp.url))).text();
  const options = JSON.parse(
    /data-options="([^"]*)"/
      .exec(html)![1]!
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&'),
  ) as Parameters<SoftwareAuthenticator['create']>[0];
  const authenticator = new SoftwareAuthenticator(new URL(idp.url).origin);
  const credential = JSON.stringify(authenticator.create(options));
  const res = await post(jar, '/account/passkeys', {
    csrf_token: formValue(html, 'csrf_token')!,
    name: 'Key',
    credential,
  });
  expect(res.status).toBe(303);
  return { sub, authenticator };
}

/** The person's password session: the one their latest sign-in started. */
async function passwordSession(sub: string): Promise<SsoSession> {
  const sessions = await idp.issuer.ctx.store.sessions.listActiveForUser(sub);
  const session = sessions.sort((a, b) => b.authTime - a.authTime)[0]!;
  expect(session.amr).toEqual(['pwd']);
  return session;
}

describe('a passkey after a password', () => {
  it('lists the person’s passkeys and adds hwk and user to the same session, with mfa', async () => {
    const { sub, authenticator } = await personWithPasskey();
    const session = await passwordSession(sub);
    const options = (await startPasskeyFactor(idp.issuer.ctx, session))!;
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([
      authenticator.credentials[0]!.id.toString('base64url'),
    ]);
    const answer = JSON.stringify(authenticator.get(options));
    const methods = await provePasskeyFactor(idp.issuer.ctx, session, { credential: answer, ip: '127.0.0.1' });
    expect(methods).toEqual(['hwk', 'user']);
    const { session: stronger } = await addFactorToSession(idp.issuer.ctx, session, methods);
    expect(stronger.id).toBe(session.id);
    const [row] = await sql(idp, 'select amr from sso_sessions where id = ?', session.id);
    expect(storedJson(row!.amr)).toEqual(['pwd', 'hwk', 'user', 'mfa']);
  });

  it('offers nothing to a person without a passkey', async () => {
    const { sub } = await registerPerson(idp, `factor-none-${++people}@example.com`);
    const jar = createCookieJarClient();
    await submitSignIn(jar, idp.url, new URL('/sign-in', idp.url), `factor-none-${people}@example.com`, PASSWORD);
    expect(await startPasskeyFactor(idp.issuer.ctx, await passwordSession(sub))).toBeUndefined();
  });

  it('refuses another person’s passkey in this person’s ceremony, audited, changing nothing', async () => {
    const victim = await personWithPasskey();
    const attacker = await personWithPasskey();
    const session = await passwordSession(victim.sub);
    const options = (await startPasskeyFactor(idp.issuer.ctx, session))!;
    // The attacker's own passkey, signing the victim's challenge (the browser would not even offer it).
    const answer = JSON.stringify(attacker.authenticator.get(options));
    const before = await tableDigests(idp.issuer.ctx.store.database);
    await expect(
      provePasskeyFactor(idp.issuer.ctx, session, { credential: answer, ip: '127.0.0.1' }),
    ).rejects.toMatchObject({ reason: 'user_handle_mismatch' });
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    const [event] = await sql(
      idp,
      "select subject, detail from audit_events where type = 'passkey.refused' order by id desc limit 1",
    );
    expect(event!.subject).toBe(victim.sub);
    expect(storedJson(event!.detail)).toMatchObject({ ceremony: 'second_factor', reason: 'user_handle_mismatch' });
  });

  it('refuses an answer to a challenge issued to another session', async () => {
    const first = await personWithPasskey();
    const session = await passwordSession(first.sub);
    const options = (await startPasskeyFactor(idp.issuer.ctx, session))!;
    const other: SsoSession = { ...session, id: 'another-session' };
    const answer = JSON.stringify(first.authenticator.get(options));
    const refusal = await provePasskeyFactor(idp.issuer.ctx, other, { credential: answer, ip: '127.0.0.1' }).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(PasskeyRefused);
    expect((refusal as PasskeyRefused).reason).toBe('unknown_challenge');
  });
});
