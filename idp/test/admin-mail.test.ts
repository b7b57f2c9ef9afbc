/**
 * The admin console's mail actions on a person, with a real SMTP server: "Send password reset"
 * mails a link only the person can use (a newer one voids the older), "Resend verification" mails
 * a new confirmation link to an address not yet confirmed and nothing to one that is; each is
 * audited with the admin as actor, and a forged form sends nothing.
 */
import { describe, expect, it } from 'vitest';
import { formValue } from '@tessera/shared/testing';
import { at, consoleBrowser, locationPath, makePerson, post } from './support/admin-console.js';
import { capturingLogger } from './support/capturing-logger.js';
import { tableDigests } from './support/db-digest.js';
import { countRows, sql, storedJson, useIssuer } from './support/fixture.js';
import { linkIn, useMailbox } from './support/mailbox.js';

const mailbox = useMailbox();
const logged = capturingLogger();
const { idp } = useIssuer({ env: mailbox.env(), issuer: { log: logged.log } });

async function auditOf(type: string, subject: string) {
  const rows = await sql(idp, 'select * from audit_events where type = ? and subject = ? order by id', type, subject);
  return rows.map((r) => storedJson(r.detail));
}

describe("the console's mail actions", () => {
  it('mails a password-reset link the person can use; a second one voids the first', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'mail-admin' });
    const person = await makePerson(idp, { name: 'forgetful' });
    const { jar, formToken } = await consoleBrowser(idp, admin);

    const sent = await post(idp, jar, `/admin/users/${person.sub}/send-reset`, { form_token: formToken });
    expect(sent.status).toBe(303);
    expect(locationPath(idp, sent)).toBe(`/admin/users/${person.sub}?done=reset-sent`);
    const shown = await (await jar.fetch(at(idp, locationPath(idp, sent)!))).text();
    expect(shown).toContain('A password-reset link was mailed to the person');
    const first = linkIn(await mailbox.next(person.email), idp.url, '/password/reset');
    // The delivery's log line, written after the answer, carries the id of the request that asked.
    await idp.issuer.ctx.mailer.idle();
    const requestId = sent.headers.get('x-request-id');
    expect(logged.lines.filter((line) => line.request_id === requestId).map((line) => line.event)).toContain(
      'mail.sent',
    );
    // The link opens the reset form, at the person's address only: the admin's page shows no link.
    expect(shown).not.toContain(first.searchParams.get('token')!);
    expect((await fetch(first)).status).toBe(200);

    await post(idp, jar, `/admin/users/${person.sub}/send-reset`, { form_token: formToken });
    const second = linkIn(await mailbox.next(person.email), idp.url, '/password/reset');
    expect((await fetch(first)).status).toBe(400);
    const form = await (await fetch(second)).text();
    expect(formValue(form, 'token')).toBe(second.searchParams.get('token'));
    expect(await auditOf('user.password_reset_sent', person.sub)).toEqual([{ actor: admin.sub }, { actor: admin.sub }]);
  });

  it('mails a new confirmation link to an unconfirmed address, and nothing to a confirmed one', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'verify-admin' });
    const unconfirmed = await makePerson(idp, { name: 'unconfirmed' });
    const confirmed = await makePerson(idp, { name: 'confirmed' });
    await sql(idp, 'update users set email_verified = false where id = ?', unconfirmed.sub);
    const { jar, formToken } = await consoleBrowser(idp, admin);

    const page = await (await jar.fetch(at(idp, `/admin/users/${unconfirmed.sub}`))).text();
    expect(page).toContain('Resend verification');
    const res = await post(idp, jar, `/admin/users/${unconfirmed.sub}/resend-verification`, { form_token: formToken });
    expect(locationPath(idp, res)).toBe(`/admin/users/${unconfirmed.sub}?done=verification-sent`);
    const link = linkIn(await mailbox.next(unconfirmed.email), idp.url, '/email/verify');
    const confirm = await fetch(link);
    expect(confirm.status).toBe(200);
    const done = await fetch(new URL('/email/verify', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({ token: formValue(await confirm.text(), 'token') ?? '' }),
    });
    expect(done.status).toBe(200);
    expect(await countRows(idp, 'users', `id = '${unconfirmed.sub}' and email_verified = true`)).toBe(1);
    expect(await auditOf('user.verification_sent', unconfirmed.sub)).toEqual([{ actor: admin.sub }]);

    // Confirmed already: no button, and a posted form sends nothing and changes nothing.
    expect(await (await jar.fetch(at(idp, `/admin/users/${confirmed.sub}`))).text()).not.toContain(
      'Resend verification',
    );
    const before = await tableDigests(idp.issuer.ctx.store.database);
    const again = await post(idp, jar, `/admin/users/${confirmed.sub}/resend-verification`, { form_token: formToken });
    expect(locationPath(idp, again)).toBe(`/admin/users/${confirmed.sub}?done=already-verified`);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    expect(mailbox.to(confirmed.email)).toEqual([]);
  });

  it('sends nothing for a form without its token or from another origin', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'csrf-admin' });
    const person = await makePerson(idp, { name: 'target' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const before = await countRows(idp, 'email_links');
    for (const [form, headers] of [
      [{}, { origin: idp.url }],
      [{ form_token: 'forged' }, { origin: idp.url }],
      [{ form_token: formToken }, { origin: 'https://evil.example' }],
    ] as const) {
      const res = await post(idp, jar, `/admin/users/${person.sub}/send-reset`, form, headers);
      expect(res.status).toBe(403);
    }
    expect(await countRows(idp, 'email_links')).toBe(before);
    expect(mailbox.to(person.email)).toEqual([]);
  });
});
