/**
 * The relying-party store on SQLite (better-sqlite3): WAL, so several processes of one app can
 * share the file; every statement prepared once at opening, so a request does no parsing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { randomSecret, secretDigest } from '../crypto/secrets.js';
import { migrationStatements, SCHEMA_TABLE } from './migrations.js';
import * as schema from './sqlite-schema.js';
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

function migrate(sqlite: Database.Database): void {
  // IMMEDIATE: the write lock first, so two processes starting at once migrate one after the other.
  sqlite
    .transaction(() => {
      sqlite.exec(SCHEMA_TABLE);
      const row = sqlite.prepare('SELECT version FROM rp_schema').get() as { version: number } | undefined;
      for (const statement of migrationStatements('sqlite', row?.version ?? 0)) sqlite.exec(statement);
    })
    .immediate();
}

export function openSqliteStore(file: string, settings: Settings): EngineStore {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // With WAL, NORMAL keeps every committed transaction across a process crash (as the issuer's store).
  sqlite.pragma('synchronous = NORMAL');
  // Another process of the app may hold the write lock a moment: wait for it rather than fail.
  sqlite.pragma('busy_timeout = 5000');
  migrate(sqlite);
  const db = drizzle(sqlite, { schema });
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
    .prepare();
  const findSession = db
    .select()
    .from(rpSessions)
    .where(and(eq(rpSessions.idDigest, p('idDigest')), gt(rpSessions.expiresAt, p('now'))))
    .prepare();
  const deleteSession = db
    .delete(rpSessions)
    .where(eq(rpSessions.idDigest, p('idDigest')))
    .prepare();
  const deleteBySid = db
    .delete(rpSessions)
    .where(eq(rpSessions.sid, p('sid')))
    .prepare();
  const deleteBySidAndSub = db
    .delete(rpSessions)
    .where(and(eq(rpSessions.sid, p('sid')), eq(rpSessions.sub, p('sub'))))
    .prepare();
  const deleteBySub = db
    .delete(rpSessions)
    .where(eq(rpSessions.sub, p('sub')))
    .prepare();

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
    .prepare();
  // Read and delete in one statement: of two callbacks with the same cookie, one gets the row.
  const takeTransaction = db
    .delete(rpLoginTransactions)
    .where(eq(rpLoginTransactions.keyDigest, p('keyDigest')))
    .returning()
    .prepare();

  // The insert is the arbiter of first use: a live row makes it do nothing, an expired one is taken over.
  const consumeJti = db
    .insert(rpUsedJtis)
    .values({ jti: p('jti'), expiresAt: p('expiresAt') })
    .onConflictDoUpdate({
      target: rpUsedJtis.jti,
      set: { expiresAt: sql`excluded.expires_at` },
      setWhere: lte(rpUsedJtis.expiresAt, p('now')),
    })
    .returning({ jti: rpUsedJtis.jti })
    .prepare();

  const releaseJti = db
    .delete(rpUsedJtis)
    .where(eq(rpUsedJtis.jti, p('jti')))
    .prepare();

  const revoke = db
    .insert(rpRevokedSessions)
    .values({ key: p('key'), revokedAt: p('now'), expiresAt: p('expiresAt') })
    .onConflictDoUpdate({
      target: rpRevokedSessions.key,
      set: { revokedAt: sql`excluded.revoked_at`, expiresAt: sql`excluded.expires_at` },
    })
    .prepare();
  const findRevoked = db
    .select({ key: rpRevokedSessions.key, revokedAt: rpRevokedSessions.revokedAt })
    .from(rpRevokedSessions)
    .where(and(inArray(rpRevokedSessions.key, [p('sidKey'), p('subKey')]), gt(rpRevokedSessions.expiresAt, p('now'))))
    .prepare();

  const sweeps = [
    sweepStatement(db, rpSessions, rpSessions.idDigest, rpSessions.expiresAt),
    sweepStatement(db, rpLoginTransactions, rpLoginTransactions.keyDigest, rpLoginTransactions.expiresAt),
    sweepStatement(db, rpUsedJtis, rpUsedJtis.jti, rpUsedJtis.expiresAt),
    sweepStatement(db, rpRevokedSessions, rpRevokedSessions.key, rpRevokedSessions.expiresAt),
  ];

  return {
    engine: 'sqlite',
    sessions: {
      async create(input) {
        const id = randomSecret();
        const now = clock.now();
        insertSession.run({
          ...sessionColumns(input),
          idDigest: secretDigest(id),
          csrfToken: randomSecret(),
          createdAt: now,
          expiresAt: now + settings.sessionTtlSec * 1000,
        });
        return id;
      },
      async find(id) {
        const row = findSession.get({ idDigest: secretDigest(id), now: clock.now() });
        if (row === undefined) return undefined;
        return sessionFromRow(row);
      },
      async destroy(id) {
        deleteSession.run({ idDigest: secretDigest(id) });
      },
      async endByIssuerSession(sid, sub) {
        return (sub === undefined ? deleteBySid.run({ sid }) : deleteBySidAndSub.run({ sid, sub })).changes;
      },
      async endBySubject(sub) {
        return deleteBySub.run({ sub }).changes;
      },
    },
    loginTransactions: {
      async save(transaction) {
        const key = randomSecret();
        const expiresAt = clock.now() + settings.loginTransactionTtlSec * 1000;
        insertTransaction.run({ ...transactionColumns(transaction), keyDigest: secretDigest(key), expiresAt });
        return key;
      },
      async take(key) {
        const row = takeTransaction.get({ keyDigest: secretDigest(key) });
        if (row === undefined || row.expiresAt <= clock.now()) return undefined;
        return transactionFromRow(row);
      },
    },
    jtis: {
      async consume(jti, expiresAtSec) {
        const now = clock.now();
        const expiresAt = Math.min(expiresAtSec * 1000, now + settings.jtiTtlSec * 1000);
        return consumeJti.get({ jti, expiresAt, now }) !== undefined;
      },
      async release(jti) {
        releaseJti.run({ jti });
      },
    },
    revokedSessions: {
      async revokeSession(sid) {
        const now = clock.now();
        revoke.run({ key: `sid:${sid}`, now, expiresAt: now + settings.revocationWindowSec * 1000 });
      },
      async revokeSubject(sub) {
        const now = clock.now();
        revoke.run({ key: `sub:${sub}`, now, expiresAt: now + settings.revocationWindowSec * 1000 });
      },
      async isRevoked(claims) {
        const sidKey = claims.sid === undefined ? null : `sid:${claims.sid}`;
        return refuses(findRevoked.all({ sidKey, subKey: `sub:${claims.sub}`, now: clock.now() }), claims);
      },
    },
    async sweepBatch(limit) {
      const now = clock.now();
      return sweeps.map((sweep) => sweep(now, limit));
    },
    async close() {
      sqlite.close();
    },
  };
}

/** Deletes up to `limit` rows of `table` whose `expiry` has passed, found through the expiry index. */
function sweepStatement(
  db: ReturnType<typeof drizzle<typeof schema>>,
  table: SQLiteTable,
  key: SQLiteColumn,
  expiry: SQLiteColumn,
): (now: number, limit: number) => number {
  const expired = db
    .select({ key })
    .from(table)
    .where(lte(expiry, p('now')))
    .limit(p('limit'));
  const statement = db.delete(table).where(inArray(key, expired)).prepare();
  return (now, limit) => statement.run({ now, limit }).changes;
}
