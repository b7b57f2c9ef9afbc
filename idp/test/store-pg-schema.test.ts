/**
 * The PostgreSQL schema mirrors SQLite's: both dialects' committed migrations are applied to fresh
 * databases (PostgreSQL's by drizzle's node-postgres migrator on a real server, SQLite's by the
 * store's own openDatabase), and their catalogues are read back and compared: tables, columns with
 * nullability, defaults and types, primary keys, unique constraints, indexes with their columns,
 * order and partial predicates, and foreign keys. A table, column or index in one dialect and not
 * the other fails here.
 */
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../src/store/database.js';
import { migratePostgres } from '../src/store/pg/migrate.js';
import { auditEvents, clients, grants, users } from '../src/store/pg/schema.js';

interface Column {
  name: string;
  notNull: boolean;
  hasDefault: boolean;
  type: string;
}
interface Index {
  /** The index's own name, or unique(columns) for one a UNIQUE constraint made. */
  name: string;
  unique: boolean;
  /** Key columns, in order, each with ` desc` when descending. */
  columns: string[];
  /** The partial index's predicate, normalised (normalisePredicate), or null. */
  where: string | null;
}
interface ForeignKey {
  columns: string[];
  references: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}
interface Table {
  columns: Column[];
  primaryKey: string[];
  indexes: Index[];
  foreignKeys: ForeignKey[];
}
type Catalogue = Record<string, Table>;

/**
 * SQLite's storage class for each PostgreSQL type the schema uses (store/pg/schema.ts says why
 * each differs): a column is the same column in both when its types correspond.
 */
const SQLITE_TYPE_OF: Record<string, string> = {
  bigint: 'integer',
  integer: 'integer',
  boolean: 'integer',
  text: 'text',
  jsonb: 'text',
};

/**
 * Predicates as both engines print them, made comparable: PostgreSQL adds parentheses and casts
 * and drops table names, SQLite keeps the text as written; identifiers may be quoted in either.
 */
function normalisePredicate(predicate: string): string {
  return predicate
    .toLowerCase()
    .replace(/::[a-z ]+/g, '')
    .replace(/[`"()]/g, '')
    .replace(/\b[a-z_][a-z0-9_]*\./g, '')
    .replace(/\btrue\b/g, '1')
    .replace(/\bfalse\b/g, '0')
    .replace(/\s+/g, ' ')
    .trim();
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
const byColumns = (a: ForeignKey, b: ForeignKey) => a.columns.join().localeCompare(b.columns.join());

function sqliteCatalogue(sqlite: Database.Database): Catalogue {
  const tables = sqlite
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' " +
        "and name <> '__drizzle_migrations' order by name",
    )
    .pluck()
    .all() as string[];
  const catalogue: Catalogue = {};
  for (const table of tables) {
    const info = sqlite.prepare(`pragma table_info("${table}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    const columns = info
      .map((c) => ({
        name: c.name,
        notNull: c.notnull === 1,
        hasDefault: c.dflt_value !== null,
        type: c.type.toLowerCase(),
      }))
      .sort(byName);
    const primaryKey = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const list = sqlite.prepare(`pragma index_list("${table}")`).all() as {
      name: string;
      unique: number;
      origin: 'c' | 'u' | 'pk';
      partial: number;
    }[];
    const indexes = list
      .filter((index) => index.origin !== 'pk')
      .map((index): Index => {
        const keyColumns = (
          sqlite.prepare(`pragma index_xinfo("${index.name}")`).all() as {
            seqno: number;
            cid: number;
            name: string | null;
            desc: number;
            key: number;
          }[]
        )
          .filter((c) => c.key === 1)
          .sort((a, b) => a.seqno - b.seqno)
          .map((c) => `${c.name ?? `expression ${c.cid}`}${c.desc ? ' desc' : ''}`);
        const sql = sqlite
          .prepare("select sql from sqlite_master where type = 'index' and name = ?")
          .pluck()
          .get(index.name) as string | null;
        const where = index.partial ? (sql?.match(/\swhere\s([\s\S]*)$/i)?.[1] ?? null) : null;
        return {
          name: index.origin === 'u' ? `unique(${keyColumns.join(', ')})` : index.name,
          unique: index.unique === 1,
          columns: keyColumns,
          where: where === null ? null : normalisePredicate(where),
        };
      })
      .sort(byName);
    const references = sqlite.prepare(`pragma foreign_key_list("${table}")`).all() as {
      id: number;
      seq: number;
      table: string;
      from: string;
      to: string;
      on_update: string;
      on_delete: string;
    }[];
    const foreignKeys = [...new Set(references.map((r) => r.id))]
      .map((id) => {
        const parts = references.filter((r) => r.id === id).sort((a, b) => a.seq - b.seq);
        const first = parts[0]!;
        return {
          columns: parts.map((r) => r.from),
          references: first.table,
          referencedColumns: parts.map((r) => r.to),
          onDelete: first.on_delete.toLowerCase(),
          onUpdate: first.on_update.toLowerCase(),
        };
      })
      .sort(byColumns);
    catalogue[table] = { columns, primaryKey, indexes, foreignKeys };
  }
  return catalogue;
}

const PG_ACTIONS: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

async function postgresCatalogue(client: Pick<pg.ClientBase, 'query'>): Promise<Catalogue> {
  const tables = (
    await client.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' " +
        "and table_type = 'BASE TABLE' order by 1",
    )
  ).rows.map((r) => r.name);
  const columns = (
    await client.query<{ table: string; name: string; nullable: string; default: string | null; type: string }>(
      'select table_name as table, column_name as name, is_nullable as nullable, column_default as default, ' +
        "data_type as type from information_schema.columns where table_schema = 'public'",
    )
  ).rows;
  const constraints = (
    await client.query<{
      table: string;
      type: 'p' | 'u' | 'f';
      columns: string[];
      references: string | null;
      referenced_columns: string[];
      on_delete: string;
      on_update: string;
    }>(
      `select c.conrelid::regclass::text as table, c.contype as type,
         array(select a.attname::text from unnest(c.conkey) with ordinality k(attnum, n)
               join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n) as columns,
         c.confrelid::regclass::text as references,
         array(select a.attname::text from unnest(c.confkey) with ordinality k(attnum, n)
               join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.n)
           as referenced_columns,
         c.confdeltype as on_delete, c.confupdtype as on_update
       from pg_constraint c join pg_namespace ns on ns.oid = c.connamespace
       where ns.nspname = 'public' and c.contype in ('p', 'u', 'f')`,
    )
  ).rows;
  const indexes = (
    await client.query<{
      table: string;
      name: string;
      unique: boolean;
      constraint_made: boolean;
      columns: string[];
      where: string | null;
    }>(
      `select t.relname as table, ic.relname as name, i.indisunique as unique,
         exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.contype = 'u') as constraint_made,
         array(select pg_get_indexdef(i.indexrelid, k.n::int, true)
                      || case when i.indoption[k.n - 1] & 1 = 1 then ' desc' else '' end
               from generate_series(1, i.indnkeyatts) k(n) order by k.n) as columns,
         pg_get_expr(i.indpred, i.indrelid, true) as where
       from pg_index i
       join pg_class ic on ic.oid = i.indexrelid
       join pg_class t on t.oid = i.indrelid
       join pg_namespace ns on ns.oid = t.relnamespace
       where ns.nspname = 'public' and not i.indisprimary`,
    )
  ).rows;

  const catalogue: Catalogue = {};
  for (const table of tables) {
    catalogue[table] = {
      columns: columns
        .filter((c) => c.table === table)
        .map((c) => ({
          name: c.name,
          notNull: c.nullable === 'NO',
          hasDefault: c.default !== null,
          type: SQLITE_TYPE_OF[c.type] ?? `unmapped ${c.type}`,
        }))
        .sort(byName),
      primaryKey: constraints.find((c) => c.table === table && c.type === 'p')?.columns ?? [],
      indexes: indexes
        .filter((index) => index.table === table)
        .map((index) => ({
          name: index.constraint_made ? `unique(${index.columns.join(', ')})` : index.name,
          unique: index.unique,
          columns: index.columns,
          where: index.where === null ? null : normalisePredicate(index.where),
        }))
        .sort(byName),
      foreignKeys: constraints
        .filter((c) => c.table === table && c.type === 'f')
        .map((c) => ({
          columns: c.columns,
          references: c.references ?? '',
          referencedColumns: c.referenced_columns,
          onDelete: PG_ACTIONS[c.on_delete] ?? c.on_delete,
          onUpdate: PG_ACTIONS[c.on_update] ?? c.on_update,
        }))
        .sort(byColumns),
    };
  }
  return catalogue;
}

describe('the PostgreSQL schema', () => {
  let cluster: ThrowawayPostgres;
  let pool: pg.Pool;
  let sqlite: OpenDatabase;

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
    pool = new pg.Pool({ connectionString: cluster.url, max: 2 });
    await migratePostgres(pool);
    sqlite = openDatabase(':memory:');
  });
  afterAll(async () => {
    sqlite?.close();
    await pool?.end();
    await cluster?.stop();
  });

  it("has SQLite's tables, columns, keys, indexes and foreign keys, after each dialect's migrations", async () => {
    const fromSqlite = sqliteCatalogue(sqlite.sqlite);
    const fromPostgres = await postgresCatalogue(pool);
    // Not vacuous: the issuer's tables are there, with their indexes and references.
    expect(Object.keys(fromSqlite)).toContain('refresh_tokens');
    expect(fromSqlite.grants?.indexes.length).toBeGreaterThan(0);
    expect(fromSqlite.grants?.foreignKeys.length).toBeGreaterThan(0);
    expect(fromPostgres).toEqual(fromSqlite);
  });

  it('sees an index, a partial predicate and a unique constraint that only one dialect has', async () => {
    const client = await pool.connect();
    try {
      // PostgreSQL's DDL is transactional: the extra index is rolled back, whatever happens here.
      await client.query('begin');
      await client.query('create index sso_sessions_open on sso_sessions (user_id) where ended_at is null');
      expect(await postgresCatalogue(client)).not.toEqual(sqliteCatalogue(sqlite.sqlite));

      sqlite.sqlite.exec('create index sso_sessions_open on sso_sessions (user_id) where "ended_at" is null');
      expect(await postgresCatalogue(client)).toEqual(sqliteCatalogue(sqlite.sqlite));

      await client.query('alter table resources add constraint resources_name_unique unique (name)');
      expect(await postgresCatalogue(client)).not.toEqual(sqliteCatalogue(sqlite.sqlite));
      sqlite.sqlite.exec('drop index sso_sessions_open');
      await client.query('rollback');
      expect(await postgresCatalogue(client)).toEqual(sqliteCatalogue(sqlite.sqlite));
    } finally {
      client.release();
    }
  });

  it('reads times back as numbers, flags as booleans and JSON as values, as the SQLite store does', async () => {
    const db = drizzle({ client: pool });
    // Past 2^31 ms and 2^32 ms: a 32-bit column or a bigint read as a string would show here.
    const at = 1_796_469_426_163;
    await db.insert(users).values({
      id: 'u-1',
      email: 'ada@example.test',
      displayName: 'Ada',
      passwordHash: 'x',
      createdAt: at,
      updatedAt: at,
    });
    await db.insert(clients).values({
      id: 'c-1',
      name: 'App',
      type: 'public',
      party: 'first',
      redirectUris: ['https://app.example.test/cb'],
      postLogoutRedirectUris: [],
      allowedScopes: ['openid'],
      allowedResources: [],
      createdAt: at,
    });
    await db.insert(grants).values({
      id: 'g-1',
      clientId: 'c-1',
      userId: 'u-1',
      sessionId: 's-1',
      scope: 'openid',
      resource: 'https://api.example.test',
      createdAt: at,
    });
    const [audit] = await db
      .insert(auditEvents)
      .values({ at, type: 'sign_in', detail: { n: 1 } })
      .returning();
    const [grant] = await db.select().from(grants).where(eq(grants.id, 'g-1'));
    const [client] = await db.select().from(clients).where(eq(clients.id, 'c-1'));
    expect(grant).toMatchObject({ createdAt: at, offline: false, expiresAt: null });
    expect(client).toMatchObject({ grantTypes: ['authorization_code'], redirectUris: ['https://app.example.test/cb'] });
    expect(audit).toMatchObject({ id: 1, at, detail: { n: 1 } });
  });
});
