/** Statement shapes the PostgreSQL repositories share (the twins of ../database.ts's helpers). */
import { eq, getTableColumns, lt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { PgDb } from './db.js';

/** A transaction handle, as `db.transaction` passes it to its callback. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

/**
 * A delete of up to `limit` rows of `table` whose `expiry` is before `before`: the rows are found
 * through the expiry column's index, a batch at a time, so a sweep never walks the whole table nor
 * holds its row locks long. SKIP LOCKED: a row another transaction holds (a sweep on another node,
 * a consumption in flight) is left to a later batch rather than waited for, so sweeps on several
 * nodes take disjoint batches. Returns how many went.
 */
export function deleteExpiredBatch(
  db: PgDb,
  table: PgTable,
  key: PgColumn,
  expiry: PgColumn,
): (before: number, limit: number) => Promise<number> {
  return (before, limit) => deleteBatchWhere(db, table, key, lt(expiry, before), limit);
}

/**
 * One batch of up to `limit` deletions, filled from `statements` in turn (each one way a row ends,
 * each through its own index) until it is full. Returns how many went.
 */
export async function deleteInTurn(
  limit: number,
  statements: readonly ((limit: number) => Promise<number>)[],
): Promise<number> {
  let deleted = 0;
  for (const run of statements) if (deleted < limit) deleted += await run(limit - deleted);
  return deleted;
}

/**
 * A delete of up to `limit` rows of `table` that `where` picks, through the index `where` matches,
 * picked `FOR UPDATE SKIP LOCKED`: rows another transaction holds are skipped, so sweeps on several
 * nodes take disjoint batches and never wait on each other. Returns how many went.
 */
export async function deleteBatchWhere(
  db: PgDb,
  table: PgTable,
  key: PgColumn,
  where: SQL,
  limit: number,
): Promise<number> {
  const due = db.select({ key }).from(table).where(where).limit(limit).for('update', { skipLocked: true });
  // `= any(array(…))`, not `in (…)`: the pick runs once, as an InitPlan. Under `in`, the planner
  // may make it the inner side of a join and run it again per row, deleting past the batch.
  const r = await db.delete(table).where(sql`${key} = any(array(${due}))`);
  return r.rowCount ?? 0;
}

/**
 * True when `e` (or what it wraps: drizzle wraps the driver's error as its `cause`) is
 * PostgreSQL's unique_violation (SQLSTATE 23505) on `constraint`.
 */
export function isUniqueViolation(e: unknown, constraint: string): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    const { code, constraint: name } = c as Error & { code?: unknown; constraint?: unknown };
    if (code === '23505' && name === constraint) return true;
  }
  return false;
}

/**
 * The row of `table` whose `key` column holds a value, by a statement prepared under `name` (once
 * per connection, by the driver): a hot lookup is not parsed and planned again on every request.
 * Each name must be unique to its statement. For unique columns (a key, a digest, an email).
 * A value with a NUL character finds nothing without a query: PostgreSQL's text cannot hold one, so
 * no row has it, and it refuses one as a parameter (SQLSTATE 22021) — a lookup by untrusted input
 * (a client id, an interaction id) must not fail where it finds nothing on SQLite.
 */
export function lookupBy<T extends PgTable>(
  db: PgDb,
  name: string,
  table: T,
  key: PgColumn,
): (value: string | number) => Promise<T['$inferSelect'] | undefined> {
  const query = db
    .select()
    .from(table as PgTable)
    .where(eq(key, sql.placeholder('key')))
    .limit(1)
    .prepare(name);
  return async (value) =>
    typeof value === 'string' && value.includes('\u0000')
      ? undefined
      : ((await query.execute({ key: value }))[0] as T['$inferSelect'] | undefined);
}

/**
 * The columns of `table`, in the schema's order, for an `INSERT … SELECT` written out in SQL: their
 * names; the select list, a typed parameter per column from `$first` (in a select list PostgreSQL
 * would take an untyped one as text) but those `from` names, which are taken from the select's
 * source; and a row's values for the parameters, in order, bound as drizzle binds them (null stays
 * SQL's NULL, where jsonb's own mapping would make it JSON's null). A column added to the schema is
 * written too.
 */
export function insertSelectColumns(table: PgTable, from: Record<string, string> = {}) {
  const all = Object.entries(getTableColumns(table));
  const bound = all.filter(([key]) => !(key in from));
  return {
    /** How many parameters the select list takes. */
    count: bound.length,
    names: all.map(([, c]) => c.name).join(', '),
    select(first: number): string {
      let n = first;
      return all.map(([key, c]) => from[key] ?? `$${n++}::${c.getSQLType()}`).join(', ');
    },
    values(row: Record<string, unknown>): unknown[] {
      return bound.map(([key, c]) =>
        row[key] === null || row[key] === undefined ? null : c.mapToDriverValue(row[key]),
      );
    },
  };
}

/**
 * Turns a raw statement's rows (columns named as the database names them) into rows of `table`,
 * each value mapped as drizzle maps it on a select (a bigint's string to a number); null stays
 * null. For statements written out in SQL: a column added to the schema is read too.
 */
export function rowsOf<T extends PgTable>(table: T): (raw: Record<string, unknown>) => T['$inferSelect'] {
  const columns = Object.entries(getTableColumns(table));
  return (raw) =>
    Object.fromEntries(
      columns.map(([key, c]) => {
        const value = raw[c.name];
        return [key, value === null || value === undefined ? null : c.mapFromDriverValue(value)];
      }),
    ) as T['$inferSelect'];
}
