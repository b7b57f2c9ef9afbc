/**
 * Opens the SQLite database (WAL, foreign keys on), applies the committed migrations (refusing a
 * database a newer build has migrated: migrations.ts) and, for a database file, starts its
 * checkpoints on a thread of their own (checkpointer.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { eq, getTableColumns, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';
import { readJournal, refuseUnknownMigrations } from './migrations.js';

/** Drizzle over the connection, which it keeps as `$client`. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export const SQLITE_MIGRATIONS = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** Rows as plain objects, column name to value. */
export type Row = Record<string, unknown>;

/** The SQLite database, with the handles SQLite-specific code and tests use beside `query`. */
export interface OpenDatabase {
  engine: 'sqlite';
  db: Db;
  sqlite: Database.Database;
  /**
   * Runs one SQL statement with `?` placeholders and returns its rows (none for a statement that
   * returns none): the engine-neutral way for tests and tools to read or change the database.
   */
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Closes the database; done by the time it returns (the promise is PostgreSQL's pool's shape). */
  close(): Promise<void>;
}

/** One statement on a SQLite connection, rows or not. */
function querySqlite(sqlite: Database.Database, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  const statement = sqlite.prepare(text);
  if (statement.reader) return Promise.resolve(statement.all(...params) as Row[]);
  statement.run(...params);
  return Promise.resolve([]);
}

export function openDatabase(file: string): OpenDatabase {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // With WAL, NORMAL keeps every committed transaction across a process crash (only an OS
  // crash or power loss can lose the last ones); FULL for those too costs an fsync per commit.
  sqlite.pragma('synchronous = NORMAL');
  // Other processes write the same file (issuer workers, the CLI): a statement that finds the
  // write lock taken waits up to 5 s for it rather than failing. SQLite waits only when the
  // transaction holds no snapshot yet, so a transaction that reads before it writes begins
  // IMMEDIATE (the lock first): begun deferred, another writer's commit makes its snapshot stale
  // and its first write fails with SQLITE_BUSY at once. A transaction whose first statement
  // writes waits like any single statement. better-sqlite3 runs each transaction in one
  // synchronous call, so no lock is held across an await and waits stay short.
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  try {
    refuseUnknownMigrations(appliedMigrations(sqlite), readJournal(SQLITE_MIGRATIONS));
    migrate(db, { migrationsFolder: SQLITE_MIGRATIONS });
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const query = (text: string, params?: readonly unknown[]) => querySqlite(sqlite, text, params);
  if (file === ':memory:') {
    return {
      engine: 'sqlite',
      db,
      sqlite,
      query,
      close: () => {
        sqlite.close();
        return Promise.resolve();
      },
    };
  }
  sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(resolve(file), () => {
    // The thread is gone: the request connection checkpoints as SQLite does by default.
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
  });
  return {
    engine: 'sqlite',
    db,
    sqlite,
    query,
    close: () => {
      checkpointer.stop();
      sqlite.close();
      return Promise.resolve();
    },
  };
}

/** The `created_at` of each migration drizzle has applied to this database (none on a new one). */
function appliedMigrations(sqlite: Database.Database): number[] {
  const table = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'");
  if (table.get() === undefined) return [];
  return sqlite
    .prepare<[], number>('select created_at from __drizzle_migrations')
    .pluck()
    .all()
    .map((when) => Number(when));
}

/** How a transaction begins: deferred takes the write lock at its first write, immediate at once. */
export interface TransactionOptions {
  behavior?: 'deferred' | 'immediate';
}

type Runner = Database.Transaction<(work: (tx: Db) => unknown, tx: Db) => unknown>;
const runners = new WeakMap<Database.Database, Runner>();

/**
 * Runs `work` in one transaction of `db`'s connection: committed when it returns, rolled back when
 * it throws, a savepoint when already inside one. `work` is synchronous (better-sqlite3 refuses a
 * promise), and its statements run on `db` itself, the same connection. Drizzle's own
 * `db.transaction` builds a transaction object with a query builder for every table of the
 * schema on each call, about 13 µs; better-sqlite3's wrapper, made once per connection, costs
 * under 1 µs.
 */
export function transaction<T>(db: Db, work: (tx: Db) => T, options: TransactionOptions = {}): T {
  const client = db.$client;
  let run = runners.get(client);
  if (run === undefined) {
    run = client.transaction((w: (tx: Db) => unknown, tx: Db) => w(tx)) as Runner;
    runners.set(client, run);
  }
  return run[options.behavior ?? 'deferred'](work, db) as T;
}

/**
 * The row of `table` whose `key` column holds a value, by a statement prepared once: a request
 * does no work it could have done at start-up. For unique columns (a key, a digest, an email).
 */
export function lookupBy<T extends SQLiteTable>(
  db: Db,
  table: T,
  key: SQLiteColumn,
): (value: string | number) => T['$inferSelect'] | undefined {
  const query = db
    .select()
    .from(table)
    .where(eq(key, sql.placeholder('key')))
    .prepare();
  return (value) => query.get({ key: value }) as T['$inferSelect'] | undefined;
}

/**
 * An insert of one whole row of `table` by a statement prepared once: every column is bound (a
 * missing value is an error, never a silent default), except the `omit`ted ones the database fills
 * itself (an autoincrement id).
 */
export function insertInto<T extends SQLiteTable, K extends keyof T['$inferSelect'] & string = never>(
  db: Db,
  table: T,
  omit: readonly K[] = [],
): (row: Omit<T['$inferSelect'], K>) => void {
  const columns = Object.keys(getTableColumns(table)).filter((k) => !(omit as readonly string[]).includes(k));
  const query = db
    .insert(table)
    .values(Object.fromEntries(columns.map((k) => [k, sql.placeholder(k)])) as T['$inferInsert'])
    .prepare();
  return (row) => void query.run(row as Record<string, unknown>);
}

/**
 * A delete of up to `limit` rows of `table` whose `expiry` is before `before`, by a statement
 * prepared once: the rows are found through the expiry column's index, a batch at a time, so a
 * sweep never walks the whole table nor holds the write lock long. Returns how many went.
 */
export function deleteExpiredBatch<T extends SQLiteTable>(
  db: Db,
  table: T,
  key: SQLiteColumn,
  expiry: SQLiteColumn,
): (before: number, limit: number) => number {
  const run = deleteBatchWhere(db, table, key, lt(expiry, sql.placeholder('before')));
  return (before, limit) => run({ before, limit });
}

/**
 * One batch of up to `limit` deletions, filled from `statements` in turn (each one way a row ends,
 * each through its own index) until it is full. Returns how many went.
 */
export function deleteInTurn(limit: number, statements: readonly ((limit: number) => number)[]): number {
  let deleted = 0;
  for (const run of statements) if (deleted < limit) deleted += run(limit - deleted);
  return deleted;
}

/**
 * A delete of up to `limit` rows of `table` that `where` picks (its values bound by name at each
 * run, `limit` among them), by a statement prepared once: one short statement per batch, its rows
 * found through the index `where` matches. Returns how many went.
 */
export function deleteBatchWhere<T extends SQLiteTable>(
  db: Db,
  table: T,
  key: SQLiteColumn,
  where: SQL,
): (values: Record<string, number>) => number {
  const query = db
    .delete(table)
    .where(
      inArray(
        key,
        db
          .select({ key })
          .from(table as SQLiteTable)
          .where(where)
          .limit(sql.placeholder('limit')),
      ),
    )
    .prepare();
  return (values) => query.run(values).changes;
}
