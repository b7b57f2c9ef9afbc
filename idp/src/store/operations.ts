/**
 * What operators ask of the database itself rather than of its rows: whether its schema is the one
 * this build migrates to (readiness), and an online copy of a SQLite file (backups). PostgreSQL
 * is backed up with its own tools (pg_dump: docs/deploy.md).
 */
import { existsSync } from 'node:fs';
import { SQLITE_MIGRATIONS } from './database.js';
import { readJournal } from './migrations.js';
import { PG_MIGRATIONS } from './pg/migrate.js';
import type { Store } from './store.js';

/**
 * True when the database has applied exactly this build's migrations: none missing (another
 * node's older build serving, or a restore of an old backup not yet migrated) and none unknown
 * (a newer build migrated it). Rejects when the database does not answer.
 */
export async function schemaIsCurrent(store: Pick<Store, 'database'>): Promise<boolean> {
  const { database } = store;
  const [journal, table] =
    database.engine === 'sqlite'
      ? [readJournal(SQLITE_MIGRATIONS), '__drizzle_migrations']
      : [readJournal(PG_MIGRATIONS), 'drizzle.__drizzle_migrations'];
  const rows = await database.query(`select created_at from ${table}`);
  const applied = new Set(rows.map((row) => Number(row.created_at)));
  return applied.size === journal.length && journal.every((entry) => applied.has(entry.when));
}

/** A backup that cannot be made as asked (the engine, the destination). */
export class BackupError extends Error {
  override name = 'BackupError';
}

/**
 * Copies a SQLite store into `destination` with SQLite's online backup API while the issuer keeps
 * serving: the copy is one consistent snapshot (readers and writers go on; pages a writer changes
 * during the copy are copied again). Refuses on PostgreSQL, whose backups are pg_dump's.
 */
export async function backupSqlite(store: Pick<Store, 'database'>, destination: string): Promise<{ pages: number }> {
  const { database } = store;
  if (database.engine !== 'sqlite')
    throw new BackupError('the store runs on PostgreSQL: back it up with pg_dump (docs/deploy.md)');
  // SQLite's backup replaces whatever is there: an earlier backup is not overwritten by mistake.
  if (existsSync(destination)) throw new BackupError(`${destination} exists already; choose a new file`);
  const { totalPages } = await database.sqlite.backup(destination);
  return { pages: totalPages };
}
