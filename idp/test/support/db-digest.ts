/**
 * Digests of the issuer's database, to show that a refused request changed no stored data:
 * SHA-256 over every row of each durable table, in rowid order.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** Tables whose rows only a successful request (or an operator) may change. */
export const DURABLE_TABLES = [
  'users',
  'sso_sessions',
  'clients',
  'resources',
  'authorization_codes',
  'grants',
  'access_tokens',
  'refresh_tokens',
  'consents',
  'signing_keys',
  'status_lists',
] as const;

/**
 * Tables a refused request may legitimately write: an interaction started by a sign-in page,
 * the audit trail of a failed attempt, the sign-in throttle counters (a wrong password must be
 * counted), and back-channel deliveries sent in the background. They are checked for bounded
 * growth per request instead.
 */
export const SCRATCH_TABLES = ['interactions', 'audit_events', 'sign_in_throttles', 'backchannel_deliveries'] as const;

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function statement(sqlite: Database.Database, sql: string): Database.Statement {
  let cache = statements.get(sqlite);
  if (!cache) {
    cache = new Map();
    statements.set(sqlite, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = sqlite.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** One SHA-256 (base64url) per table, over its rows in rowid order. */
export function tableDigests(
  sqlite: Database.Database,
  tables: readonly string[] = DURABLE_TABLES,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    const hash = createHash('sha256');
    for (const row of statement(sqlite, `select * from ${table} order by rowid`).raw(true).iterate() as Iterable<
      unknown[]
    >) {
      hash.update(
        JSON.stringify(row, (_k, v: unknown) =>
          typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v,
        ),
      );
      hash.update('\n');
    }
    out[table] = hash.digest('base64url');
  }
  return out;
}

/** One digest over the durable tables. */
export function databaseDigest(sqlite: Database.Database, tables: readonly string[] = DURABLE_TABLES): string {
  return createHash('sha256')
    .update(JSON.stringify(tableDigests(sqlite, tables)))
    .digest('base64url');
}

/** Row counts, e.g. of the scratch tables. */
export function rowCounts(
  sqlite: Database.Database,
  tables: readonly string[] = SCRATCH_TABLES,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const table of tables)
    out[table] = (statement(sqlite, `select count(*) as n from ${table}`).get() as { n: number }).n;
  return out;
}

/** SHA-256 base64url of a bearer secret: how the store finds refresh tokens and sessions. */
export const secretDigest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
