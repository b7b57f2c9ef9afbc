/**
 * The relying-party store on PostgreSQL (node-postgres, as the issuer): one pool per process, every
 * hot statement a named prepared statement (parsed once per connection). Any number of processes
 * of one app may share the database: each rule below is decided by one statement, never by a read
 * before a write.
 */
import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { randomSecret, secretDigest } from '../crypto/secrets.js';
import { migrationStatements, SCHEMA_TABLE } from './migrations.js';
import * as schema from './pg-schema.js';
import {
  type EngineStore,
  refuses,
  sessionColumns,
  sessionFromRow,
  type Settings,
  transactionColumns,
  transactionFromRow,
} from './store.js';

const { rpSessions, rpLoginTransactions, rpUsedJtis, rpRevokedSessions } = schema;
const p = (name: string) => sql.placeholder(name);
type Db = NodePgDatabase<typeof schema>;

/** One advisory lock key for the store's migrations: processes starting at once migrate one at a time. */
const MIGRATION_LOCK = 0x7470_7273;

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Released with the transaction; PostgreSQL's DDL is transactional, so a failed step leaves nothing.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(SCHEMA_TABLE);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM rp_schema');
    for (const statement of migrationStatements('postgres', rows[0]?.version ?? 0)) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export async function openPostgresStore(url: string, settings: Settings): Promise<EngineStore> {
  // A server that does not answer fails the start, or the request, within 5 s rather than hanging it.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle connection the server dropped (a restart): the pool opens another at the next query,
  // which reports the failure if the server is still gone. Unhandled, the event would end the process.
  pool.on('error', () => {});
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = drizzle({ client: pool, schema });
  const { clock } = settings;

  const insertSession = db
    .insert(rpSessions)
    .values({
      idDigest: p('idDigest'),
      sub: p('sub'),
      sid: p('sid'),
      email: p('email'),
      name: p('name'),
      idToken: p('idToken'),
      accessToken: p('accessToken'),
      accessTokenExpiresAt: p('accessTokenExpiresAt'),
      acr: p('acr'),
      amr: p('amr'),
      authTime: p('authTime'),
      csrfToken: p('csrfToken'),
      createdAt: p('createdAt'),
      expiresAt: p('expiresAt'),
    })
    .prepare('rp_session_insert');
  const findSession = db
    .select()
    .from(rpSessions)
    .where(and(eq(rpSessions.idDigest, p('idDigest')), gt(rpSessions.expiresAt, p('now'))))
    .prepare('rp_session_find');
  const deleteSession = db
    .delete(rpSessions)
    .where(eq(rpSessions.idDigest, p('idDigest')))
    .prepare('rp_session_delete');
  const deleteBySid = db
    .delete(rpSessions)
    .where(eq(rpSessions.sid, p('sid')))
    .prepare('rp_sessions_delete_by_sid');
  const deleteBySidAndSub = db
    .delete(rpSessions)
    .where(and(eq(rpSessions.sid, p('sid')), eq(rpSessions.sub, p('sub'))))
    .prepare('rp_sessions_delete_by_sid_sub');
  const deleteBySub = db
    .delete(rpSessions)
    .where(eq(rpSessions.sub, p('sub')))
    .prepare('rp_sessions_delete_by_sub');

  const insertTransaction = db
    .insert(rpLoginTransactions)
    .values({
      keyDigest: p('keyDigest'),
      state: p('state'),
      nonce: p('nonce'),
      codeVerifier: p('codeVerifier'),
      acrValues: p('acrValues'),
      maxAge: p('maxAge'),
      returnTo: p('returnTo'),
      expiresAt: p('expiresAt'),
    })
    .prepare('rp_login_transaction_insert');
  // Read and delete in one statement: of two callbacks with the same cookie, one gets the row.
  const takeTransaction = db
    .delete(rpLoginTransactions)
    .where(eq(rpLoginTransactions.keyDigest, p('keyDigest')))
    .returning()
    .prepare('rp_login_transaction_take');

  // The insert is the arbiter of first use: of two concurrent ones, the second waits for the first
  // and then finds a live row, so it does nothing; an expired row is taken over.
  const consumeJti = db
    .insert(rpUsedJtis)
    .values({ jti: p('jti'), expiresAt: p('expiresAt') })
    .onConflictDoUpdate({
      target: rpUsedJtis.jti,
      set: { expiresAt: sql`excluded.expires_at` },
      setWhere: lte(rpUsedJtis.expiresAt, p('now')),
    })
    .returning({ jti: rpUsedJtis.jti })
    .prepare('rp_jti_consume');

  const releaseJti = db
    .delete(rpUsedJtis)
    .where(eq(rpUsedJtis.jti, p('jti')))
    .prepare('rp_jti_release');

  const revoke = db
    .insert(rpRevokedSessions)
    .values({ key: p('key'), revokedAt: p('now'), expiresAt: p('expiresAt') })
    .onConflictDoUpdate({
      target: rpRevokedSessions.key,
      set: { revokedAt: sql`excluded.revoked_at`, expiresAt: sql`excluded.expires_at` },
    })
    .prepare('rp_revoke');
  const findRevoked = db
    .select({ key: rpRevokedSessions.key, revokedAt: rpRevokedSessions.revokedAt })
    .from(rpRevokedSessions)
    .where(and(inArray(rpRevokedSessions.key, [p('sidKey'), p('subKey')]), gt(rpRevokedSessions.expiresAt, p('now'))))
    .prepare('rp_revoked_find');

  const sweeps = [
    sweepStatement(db, 'rp_sessions', rpSessions, rpSessions.idDigest, rpSessions.expiresAt),
    sweepStatement(
      db,
      'rp_login_transactions',
      rpLoginTransactions,
      rpLoginTransactions.keyDigest,
      rpLoginTransactions.expiresAt,
    ),
    sweepStatement(db, 'rp_used_jtis', rpUsedJtis, rpUsedJtis.jti, rpUsedJtis.expiresAt),
    sweepStatement(db, 'rp_revoked_sessions', rpRevokedSessions, rpRevokedSessions.key, rpRevokedSessions.expiresAt),
  ];

  return {
    engine: 'postgres',
    sessions: {
      async create(input) {
        const id = randomSecret();
        const now = clock.now();
        await insertSession.execute({
          ...sessionColumns(input),
          idDigest: secretDigest(id),
          csrfToken: randomSecret(),
          createdAt: now,
          expiresAt: now + settings.sessionTtlSec * 1000,
        });
        return id;
      },
      async find(id) {
        const [row] = await findSession.execute({ idDigest: secretDigest(id), now: clock.now() });
        if (row === undefined) return undefined;
        return sessionFromRow(row);
      },
      async destroy(id) {
        await deleteSession.execute({ idDigest: secretDigest(id) });
      },
      async endByIssuerSession(sid, sub) {
        const result = await (sub === undefined
          ? deleteBySid.execute({ sid })
          : deleteBySidAndSub.execute({ sid, sub }));
        return result.rowCount ?? 0;
      },
      async endBySubject(sub) {
        return (await deleteBySub.execute({ sub })).rowCount ?? 0;
      },
    },
    loginTransactions: {
      async save(transaction) {
        const key = randomSecret();
        const expiresAt = clock.now() + settings.loginTransactionTtlSec * 1000;
        await insertTransaction.execute({
          ...transactionColumns(transaction),
          keyDigest: secretDigest(key),
          expiresAt,
        });
        return key;
      },
      async take(key) {
        const [row] = await takeTransaction.execute({ keyDigest: secretDigest(key) });
        if (row === undefined || row.expiresAt <= clock.now()) return undefined;
        return transactionFromRow(row);
      },
    },
    jtis: {
      async consume(jti, expiresAtSec) {
        const now = clock.now();
        const expiresAt = Math.min(expiresAtSec * 1000, now + settings.jtiTtlSec * 1000);
        return (await consumeJti.execute({ jti, expiresAt, now })).length > 0;
      },
      async release(jti) {
        await releaseJti.execute({ jti });
      },
    },
    revokedSessions: {
      async revokeSession(sid) {
        const now = clock.now();
        await revoke.execute({ key: `sid:${sid}`, now, expiresAt: now + settings.revocationWindowSec * 1000 });
      },
      async revokeSubject(sub) {
        const now = clock.now();
        await revoke.execute({ key: `sub:${sub}`, now, expiresAt: now + settings.revocationWindowSec * 1000 });
      },
      async isRevoked(claims) {
        const sidKey = claims.sid === undefined ? null : `sid:${claims.sid}`;
        return refuses(await findRevoked.execute({ sidKey, subKey: `sub:${claims.sub}`, now: clock.now() }), claims);
      },
    },
    async sweepBatch(limit) {
      const now = clock.now();
      const deleted: number[] = [];
      // One table after another: a sweep takes one connection, not the pool.
      for (const sweep of sweeps) deleted.push(await sweep(now, limit));
      return deleted;
    },
    close: () => pool.end(),
  };
}

/**
 * Deletes up to `limit` rows of `table` whose `expiry` has passed, found through the expiry index;
 * each batch is its own short transaction, so a sweep never holds locks long.
 */
function sweepStatement(
  db: Db,
  name: string,
  table: PgTable,
  key: PgColumn,
  expiry: PgColumn,
): (now: number, limit: number) => Promise<number> {
  const expired = db
    .select({ key })
    .from(table)
    .where(lte(expiry, p('now')))
    .limit(p('limit'));
  // `= any(array(…))`, not `in (…)`: the batch is picked once (an InitPlan), as the issuer's sweep
  // picks it; under `in`, the planner may run the pick again per row and delete past the batch.
  const statement = db.delete(table).where(sql`${key} = any(array(${expired}))`).prepare(`${name}_sweep`);
  return async (now, limit) => (await statement.execute({ now, limit })).rowCount ?? 0;
}
