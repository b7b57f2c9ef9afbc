/**
 * The database digests that tests of refusals compare (support/db-digest.ts): a change to any row
 * of a durable table changes that table's digest and no other, and undoing it gives the digest
 * back — on each engine, whose digests are computed differently (PostgreSQL in one statement).
 */
import { describe, expect, it } from 'vitest';
import { DURABLE_TABLES, rowCounts, tableDigests } from './support/db-digest.js';
import { useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

describe('database digests', () => {
  it('change with any row of a durable table, that table only, and come back when it is undone', async () => {
    const db = idp.issuer.ctx.store.database;
    // The engine each digest is computed for: PostgreSQL's own path is the one under test there.
    expect(db.engine).toBe(process.env.TESSERA_TEST_ENGINE);
    const before = await tableDigests(db);
    expect(Object.keys(before)).toEqual(Object.keys(DURABLE_TABLES));
    expect(await tableDigests(db)).toEqual(before);

    const [person] = await db.query('select id, display_name from users where email = ?', [fx.alice.email]);
    await db.query('update users set display_name = ? where id = ?', ['Someone Else', person!.id]);
    const renamed = await tableDigests(db);
    expect(renamed.users).not.toBe(before.users);
    expect({ ...renamed, users: before.users }).toEqual(before);

    await db.query('update users set display_name = ? where id = ?', [person!.display_name, person!.id]);
    expect(await tableDigests(db)).toEqual(before);

    // A row added to a table with a two-column key, then removed.
    const [client] = await db.query('select id from clients order by id limit 1');
    await db.query('insert into consents (user_id, client_id, scopes, updated_at) values (?, ?, ?, ?)', [
      person!.id,
      client!.id,
      '["openid"]',
      1,
    ]);
    const consented = await tableDigests(db);
    expect(consented.consents).not.toBe(before.consents);
    await db.query('delete from consents where user_id = ? and client_id = ?', [person!.id, client!.id]);
    expect(await tableDigests(db)).toEqual(before);
  });

  it('counts the rows of the scratch tables in one statement', async () => {
    const db = idp.issuer.ctx.store.database;
    const counts = await rowCounts(db, ['users', 'clients']);
    const [users] = await db.query('select count(*) as n from users');
    const [clients] = await db.query('select count(*) as n from clients');
    expect(counts).toEqual({ users: Number(users!.n), clients: Number(clients!.n) });
    expect(counts.users).toBeGreaterThan(0);
  });
});
