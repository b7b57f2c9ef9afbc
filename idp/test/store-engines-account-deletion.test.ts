/**
 * What deleting an account and changing a password ask of the store, on both engines: a person's
 * row deleted with everything that names them (the schema's cascades), their audit events kept
 * without IP addresses, and every grant of a person revoked but one session's.
 */
import { describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, type StoreNode, useEngines } from './support/store-engines.js';

useEngines();

const T = 1_800_000_000_000;

async function person(node: StoreNode, id: string): Promise<void> {
  await node.query(
    'insert into users (id, email, display_name, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
    [id, `${id}@example.com`, id, 'x', T, T],
  );
}

async function client(node: StoreNode): Promise<void> {
  await node.query(
    'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, ' +
      "allowed_scopes, allowed_resources, created_at) values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
  );
}

async function session(node: StoreNode, id: string, userId: string): Promise<void> {
  await node.query(
    'insert into sso_sessions (id, secret_digest, user_id, auth_time, created_at, last_seen_at, expires_at, ' +
      "user_agent, ip, ended_at) values (?, ?, ?, 0, 0, 0, ?, 'ua', '127.0.0.1', null)",
    [id, `secret-${id}`, userId, T * 2],
  );
}

async function grant(node: StoreNode, engine: string, id: string, userId: string, sessionId: string, offline = false) {
  await node.query(
    'insert into grants (id, client_id, user_id, session_id, code_digest, scope, resource, created_at, ' +
      "expires_at, offline, revoked_at) values (?, 'c', ?, ?, null, 'openid', 'r', 0, null, ?, null)",
    [id, userId, sessionId, engine === 'postgres' ? offline : offline ? 1 : 0],
  );
  await node.query(
    'insert into refresh_tokens (digest, grant_id, created_at, expires_at, rotated_at, revoked_at) ' +
      'values (?, ?, 0, ?, null, null)',
    [`rt-${id}`, id, T * 2],
  );
}

const count = async (node: StoreNode, sql: string, params: unknown[] = []) =>
  Number((await node.query(sql, params))[0]?.n);

describe.each(ENGINES)('deleting a person on %s', (engine) => {
  it('deletes the row and, by cascade, their sessions, grants and refresh tokens; no one else’s', async () => {
    const node = await (await freshDatabase(engine)).node();
    await client(node);
    await person(node, 'ann');
    await person(node, 'bo');
    await session(node, 's-ann', 'ann');
    await session(node, 's-bo', 'bo');
    await grant(node, engine, 'g-ann', 'ann', 's-ann');
    await grant(node, engine, 'g-bo', 'bo', 's-bo');
    // Ann's access token, revoked (as endAccountAccess leaves it) and not yet expired.
    await node.query(
      'insert into access_tokens (jti, grant_id, expires_at, revoked_at, status_list, status_index) ' +
        "values ('at-ann', 'g-ann', ?, ?, 1, 7)",
      [T * 2, T],
    );
    expect(await node.users.delete('ann')).toBe(true);
    // Its row stays, detached and revoked: a status list rebuilt from the rows keeps its bit set.
    expect(
      await node.query("select grant_id, revoked_at, status_index from access_tokens where jti = 'at-ann'"),
    ).toEqual([{ grant_id: null, revoked_at: engine === 'postgres' ? String(T) : T, status_index: 7 }]);
    expect(await node.users.findBySub('ann')).toBeUndefined();
    expect(await count(node, "select count(*) as n from sso_sessions where user_id = 'ann'")).toBe(0);
    expect(await count(node, "select count(*) as n from grants where user_id = 'ann'")).toBe(0);
    expect(await count(node, "select count(*) as n from refresh_tokens where grant_id = 'g-ann'")).toBe(0);
    expect(await node.users.findBySub('bo')).toBeDefined();
    expect(await count(node, "select count(*) as n from refresh_tokens where grant_id = 'g-bo'")).toBe(1);
    // A second deletion finds no one.
    expect(await node.users.delete('ann')).toBe(false);
  });

  it('forgets the IP addresses of the person’s audit events and keeps the events; others’ untouched', async () => {
    const node = await (await freshDatabase(engine)).node();
    const event = (subject: string, ip: string | null) =>
      node.audit.record({ at: T, type: 'sign_in.succeeded', subject, clientId: 'c', ip, detail: { sid: 's' } });
    await event('ann', '192.0.2.1');
    await event('ann', '2001:db8::1');
    await event('bo', '192.0.2.9');
    expect(await node.audit.scrubSubject('ann')).toBe(2);
    const rows = await node.audit.list({ limit: 10 });
    expect(rows.filter((e) => e.subject === 'ann').map((e) => [e.ip, e.clientId, e.detail])).toEqual([
      [null, 'c', { sid: 's' }],
      [null, 'c', { sid: 's' }],
    ]);
    expect(rows.find((e) => e.subject === 'bo')?.ip).toBe('192.0.2.9');
  });
});

describe.each(ENGINES)('revoking every grant of a person but one session’s on %s', (engine) => {
  it('revokes the grants of the other sessions, offline ones too, and keeps that session’s', async () => {
    const node = await (await freshDatabase(engine)).node();
    await client(node);
    await person(node, 'ann');
    await person(node, 'bo');
    for (const s of ['here', 'there', 'long-ago']) await session(node, s, 'ann');
    await session(node, 'bo-s', 'bo');
    await grant(node, engine, 'g-here', 'ann', 'here');
    await grant(node, engine, 'g-there', 'ann', 'there');
    await grant(node, engine, 'g-offline', 'ann', 'long-ago', true);
    await grant(node, engine, 'g-bo', 'bo', 'bo-s');
    await node.refreshTokens.revokeUserGrants('ann', T, { sessionId: 'here' });
    const revoked = async (id: string) =>
      (await node.query('select revoked_at from refresh_tokens where grant_id = ?', [id]))[0]?.revoked_at;
    expect(await revoked('g-here')).toBeNull();
    expect(Number(await revoked('g-there'))).toBe(T);
    expect(Number(await revoked('g-offline'))).toBe(T);
    expect(await revoked('g-bo')).toBeNull();
    // Without a session to keep: all of them.
    await node.refreshTokens.revokeUserGrants('ann', T + 1);
    expect(Number(await revoked('g-here'))).toBe(T + 1);
  });
});
