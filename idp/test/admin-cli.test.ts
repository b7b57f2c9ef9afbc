/**
 * The CLI's `users grant-admin|revoke-admin|disable|enable EMAIL`, run as an operator runs it (a
 * process of its own on the database of a running issuer): each audited with `cli` as its actor;
 * a disable ends the person's sessions, and the running issuer delivers the back-channel logout
 * the CLI queued. Mistakes are a message and an exit code, never a stack trace.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryJtiStore, createRemoteKeySet, verifyLogoutToken } from '@tessera/shared';
import { eventually } from '@tessera/shared/testing';
import { signInAndRedeem } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { registerWebClient, sql, storedJson, useIssuer } from './support/fixture.js';
import { runCli } from './support/issuer-process.js';
import { LogoutReceiver } from './support/logout-receiver.js';
import { makePerson } from './support/admin-console.js';

// The issuer polls the delivery queue often, so what the CLI queued goes out within the test.
const { idp, fx } = useIssuer({ issuer: { backchannel: { pollMs: 100, baseDelayMs: 50, maxAttempts: 3 } } });
const receiver = new LogoutReceiver();
const app = { id: 'cli-disable-app', secret: 'cli-disable-app-secret-cli-disable-app-00' };

beforeAll(async () => {
  await receiver.start();
  await registerWebClient(idp, fx, { ...app, name: 'CLI App' }, { backchannelLogoutUri: receiver.url });
  return () => receiver.stop();
});

/** The CLI with the running issuer's settings, as an operator runs it beside it. */
const cli = (...args: string[]) => runCli(idp.database, args, { TESSERA_ISSUER: idp.url });

async function auditOf(type: string, subject: string) {
  const rows = await sql(
    idp,
    'select detail from audit_events where type = ? and subject = ? order by id',
    type,
    subject,
  );
  return rows.map((r) => storedJson(r.detail));
}

// Each call starts a TypeScript process; on a loaded two-core machine that can take seconds.
describe('the CLI on people', { timeout: 60_000 }, () => {
  it('grants and takes back the admin role, audited with the CLI as actor', async () => {
    const person = await makePerson(idp, { name: 'cli-admin' });
    const granted = await cli('users', 'grant-admin', person.email, '--json');
    expect(granted.code, granted.stderr).toBe(0);
    expect(JSON.parse(granted.stdout)).toEqual({ email: person.email, admin: true, changed: true });
    expect((await idp.issuer.ctx.store.users.findBySub(person.sub))?.admin).toBe(true);
    const again = await cli('users', 'grant-admin', person.email);
    expect(again.stdout).toBe(`${person.email} is an admin already\n`);
    const revoked = await cli('users', 'revoke-admin', person.email);
    expect(revoked.stdout).toBe(`${person.email} is not an admin\n`);
    expect((await idp.issuer.ctx.store.users.findBySub(person.sub))?.admin).toBe(false);
    expect(await auditOf('admin.granted', person.sub)).toEqual([{ actor: 'cli' }]);
    expect(await auditOf('admin.revoked', person.sub)).toEqual([{ actor: 'cli' }]);
  });

  it('disables a signed-in person: their sessions end and the app is told; enable takes the mark off', async () => {
    const person = await makePerson(idp, { name: 'cli-disabled' });
    // Signed in to the app: it holds a grant in the session, so it is told when the session ends.
    await signInAndRedeem(idp.url, { clientId: app.id, redirectUri: fx.redirectUri, auth: app, email: person.email });
    const [session] = await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub);
    expect(session).toBeDefined();

    const disabled = await cli('users', 'disable', person.email);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toBe(`${person.email} is disabled\n`);
    expect(await idp.issuer.ctx.store.sessions.listActiveForUser(person.sub)).toEqual([]);
    expect((await idp.issuer.ctx.store.users.findBySub(person.sub))?.disabledAt).toEqual(expect.any(Number));
    expect(await auditOf('user.disabled', person.sub)).toEqual([{ actor: 'cli' }]);

    // Queued by the CLI, signed with the issuer's key and name, delivered by the running issuer.
    await eventually(() => receiver.tokens.length > 0, 15_000);
    const { claims } = await verifyLogoutToken(receiver.tokens[0]!, {
      issuer: idp.url,
      audience: app.id,
      keySet: createRemoteKeySet(`${idp.url}/jwks`),
      jtiStore: createMemoryJtiStore(),
    });
    expect({ sub: claims.sub, sid: claims.sid }).toEqual({ sub: person.sub, sid: session!.id });

    const enabled = await cli('users', 'enable', person.email, '--json');
    expect(JSON.parse(enabled.stdout)).toEqual({ email: person.email, disabled: false, changed: true });
    expect((await idp.issuer.ctx.store.users.findBySub(person.sub))?.disabledAt).toBeNull();
    expect(await auditOf('user.enabled', person.sub)).toEqual([{ actor: 'cli' }]);
  });

  it('updates a client: its second-factor requirement on and off, its redirect URIs', async () => {
    const id = 'cli-updated-app';
    await registerWebClient(idp, fx, { id, name: 'CLI Updated', secret: 'cli-updated-app-secret-cli-updated-app-0' });
    const on = await cli('clients', 'update', '--id', id, '--require-mfa', '--json');
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ client_id: id, require_mfa: true, redirect_uris: [fx.redirectUri] });
    const off = await cli('clients', 'update', '--id', id, '--no-require-mfa', '--redirect-uri', 'https://cli.test/cb');
    expect(off.code, off.stderr).toBe(0);
    expect(await idp.issuer.ctx.store.clients.findById(id)).toMatchObject({
      requireMfa: false,
      redirectUris: ['https://cli.test/cb'],
    });
    const both = await cli('clients', 'update', '--id', id, '--require-mfa', '--no-require-mfa');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^--require-mfa and --no-require-mfa contradict each other\n/);
    expect(await idp.issuer.ctx.store.clients.findById(id)).toMatchObject({ requireMfa: false });
    const events = await sql(
      idp,
      "select detail from audit_events where client_id = ? and type = 'client.updated'",
      id,
    );
    expect(events.map((e) => storedJson(e.detail))).toEqual([
      { changed: ['requireMfa'], actor: 'cli' },
      { changed: ['redirectUris', 'requireMfa'], actor: 'cli' },
    ]);
  });

  it('rotates a client secret, shown once; refuses an unknown client and an empty update', async () => {
    const id = 'cli-rotated-app';
    await registerWebClient(idp, fx, { id, name: 'CLI Rotated', secret: 'cli-rotated-app-secret-cli-rotated-app-0' });
    const rotated = await cli('clients', 'rotate-secret', '--id', id, '--json');
    const { client_secret: secret } = JSON.parse(rotated.stdout) as { client_secret: string };
    const stored = await idp.issuer.ctx.store.clients.findById(id);
    expect(stored?.secretDigest).toBe(createHash('sha256').update(secret).digest('base64url'));
    const events = await sql(
      idp,
      "select type, detail from audit_events where client_id = ? and type like 'client.%' order by id",
      id,
    );
    expect(events.map((e) => [e.type, storedJson(e.detail)])).toEqual([
      ['client.created', { type: 'confidential', party: 'first' }],
      ['client.secret_rotated', { actor: 'cli' }],
    ]);
    const nothing = await cli('clients', 'update', '--id', id);
    expect(nothing.stderr).toMatch(/^nothing to update/);
    const unknown = await cli('clients', 'rotate-secret', '--id', 'no-such-client');
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 1,
      stderr: 'error: client no-such-client does not exist\n',
    });
  });

  it('refuses an unknown email and a missing or extra operand, changing nothing', async () => {
    const before = await tableDigests(idp.issuer.ctx.store.database);
    for (const verb of ['grant-admin', 'revoke-admin', 'disable', 'enable']) {
      const unknown = await cli('users', verb, 'nobody@example.com');
      expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
        code: 1,
        stderr: 'error: no account nobody@example.com\n',
      });
    }
    const missing = await cli('users', 'disable');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^expected one EMAIL\n\nusage:/);
    const extra = await cli('users', 'disable', 'a@example.com', 'b@example.com');
    expect(extra.code).toBe(2);
    expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  });
});
