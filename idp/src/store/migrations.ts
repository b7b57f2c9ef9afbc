/**
 * What this build knows of its schema, on either engine: the migrations drizzle-kit generated
 * (each dialect's `meta/_journal.json`), and the refusal to serve a database that a newer build
 * has migrated past them. Such a database may have columns, constraints or meanings this build
 * would break by writing without them, so the node stops before serving, with a message that
 * names both ends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One migration as drizzle's journal lists it; `when` is what drizzle records as `created_at`. */
export interface JournalEntry {
  tag: string;
  when: number;
}

/** The migrations in `folder`, oldest first. */
export function readJournal(folder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries.map(({ tag, when }) => ({ tag, when })).sort((a, b) => a.when - b.when);
}

/** A database migrated by a build newer than this one. */
export class NewerSchemaError extends Error {
  override name = 'NewerSchemaError';
}

const describeTime = (millis: number) => new Date(millis).toISOString();

/**
 * Throws NewerSchemaError when the database records an applied migration (by its `created_at`,
 * drizzle's only record of which one it was) that is not in this build's journal. drizzle's own
 * migrator would start regardless: it applies what is later than the newest applied, which here is
 * nothing.
 */
export function refuseUnknownMigrations(applied: readonly number[], journal: readonly JournalEntry[]): void {
  const known = new Set(journal.map((entry) => entry.when));
  const unknown = applied.filter((when) => !known.has(when));
  if (unknown.length === 0) return;
  const databaseNewest = Math.max(...applied);
  const buildNewest = journal.at(-1);
  const newest = known.has(databaseNewest)
    ? journal.find((entry) => entry.when === databaseNewest)!.tag
    : `an unknown migration of ${describeTime(databaseNewest)}`;
  const ours = buildNewest ? `${buildNewest.tag} (${describeTime(buildNewest.when)})` : 'none';
  throw new NewerSchemaError(
    `the database schema is newer than this build knows: the database's newest migration is ${newest}, ` +
      `this build's newest is ${ours} (${unknown.length} applied migration(s) unknown to this build). ` +
      'Run a Tessera build that includes them.',
  );
}
