/**
 * Opens PostgreSQL: a `pg` pool whose rows carry SQLite's JavaScript types where the two can agree,
 * with the committed migrations applied under an advisory lock (migrate.ts) before it serves.
 *
 * `pg` (node-postgres) rather than `postgres` (postgres.js): it is the driver drizzle's PostgreSQL
 * support was first built and is most used on, its pool is a plain object we size, watch and end
 * ourselves, its type parsers are set per pool, and `pg_advisory_lock` needs a session held across
 * statements, which a `pg` client is.
 */
import type { Logger } from '@tessera/shared';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Row } from '../database.js';
import type { PgDb } from './db.js';
import { guardPool } from './circuit.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

/**
 * How long a request waits for a connection (all taken, or the server unreachable) before failing:
 * a node cut off from its database answers errors and not-ready, rather than hanging its clients.
 */
const CONNECTION_TIMEOUT_MS = 5000;

/**
 * How long one statement may take. The server cancels it past STATEMENT_TIMEOUT_MS (a lock waited
 * for too long, a plan gone wrong); the driver gives up past QUERY_TIMEOUT_MS, which is what ends
 * a wait on a connection that silently went dead (a partition drops no connection: without this a
 * request would wait for TCP keep-alive, hours). Every statement of a request takes milliseconds;
 * the migrations, which may take long, run on a pool of their own without either limit.
 */
const STATEMENT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 6000;

export interface PostgresOptions {
  /** Connections in the pool (TESSERA_DATABASE_POOL; `pg`'s default, 10, without it). */
  poolSize?: number;
  /** Where a failure on an idle connection (the server restarted, the network cut) is reported. */
  log?: Logger;
}

/** PostgreSQL, with the pool PostgreSQL-specific code and tests use beside `query`. */
export interface PostgresDatabase {
  engine: 'postgres';
  db: PgDb;
  pool: pg.Pool;
  /** As SQLite's `query` (`?` placeholders), with the differences in rows that TYPES leaves. */
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Rows as SQLite gives them: `bigint` columns (every time, epoch milliseconds, far below 2^53) and
 * counts as numbers rather than `pg`'s strings, and `numeric` (what `sum` of a bigint returns) as a
 * number, as SQLite's INTEGER or REAL. What still differs, and is each engine's own: booleans are
 * `true`/`false` where SQLite has 1/0, and `jsonb` arrives parsed where SQLite's JSON is text
 * (drizzle's column modes hide both from the repositories; only raw `query` sees them).
 */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`, outside quoted strings and identifiers. (A jsonb
 * `?` operator cannot be written through `query`; no statement of ours uses one.)
 */
export function numberPlaceholders(text: string): string {
  let n = 0;
  let quote: string | undefined;
  let out = '';
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      out += `$${++n}`;
      continue;
    }
    out += char;
  }
  return out;
}

/** Opens the pool on `url` and migrates the database; rejects, with the pool ended, if either fails. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
  const connection = {
    connectionString: url,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    // TCP keep-alive: a connection whose peer vanished (a partition, a host gone) is found dead.
    keepAlive: true,
    types: TYPES,
  };
  const pool = new pg.Pool({
    ...connection,
    ...(options.poolSize !== undefined && { max: options.poolSize }),
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // An idle connection that fails (the server restarted or went away) is dropped from the pool by
  // `pg`; without a listener the error would end the process. The next query opens a new one.
  pool.on('error', (error) => options.log?.warn('store.connection_lost', { error: error.message }));
  // A connection can also fail while it is checked out but between statements (inside a
  // transaction, awaiting the code that runs it). `pg` then emits `error` on the client, which
  // the pool listens for only while the client is idle: without a listener of its own the error
  // would end the process. The statement that next uses it fails and the request gets its 503;
  // the pool discards the dead client when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.log?.warn('store.connection_lost', { error: error.message }));
  });
  const circuit = guardPool(pool, connection, options.log);
  const migrations = new pg.Pool({ ...connection, max: 1 });
  migrations.on('error', (error) => options.log?.warn('store.connection_lost', { error: error.message }));
  try {
    await migratePostgres(migrations);
  } catch (error) {
    circuit.stop();
    await pool.end();
    throw error;
  } finally {
    await migrations.end();
  }
  return {
    engine: 'postgres',
    db: drizzle({ client: pool, schema }),
    pool,
    query: async (text, params = []) => (await pool.query(numberPlaceholders(text), [...params])).rows as Row[],
    close: () => {
      circuit.stop();
      return pool.end();
    },
  };
}
