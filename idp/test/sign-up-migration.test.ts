/**
 * The migration that added `users.email_verified` marks everyone registered before it verified
 * (an operator registered them), while people created afterwards start unverified: a database at
 * the previous migration, with a person in it, is opened by this build on each engine.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as sqliteMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import { migrate as pgMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startThrowawayPostgres } from '@tessera/shared/testing';
import { SQLITE_MIGRATIONS } from '../src/store/database.js';
import { openStore } from '../src/store/index.js';
import { PG_MIGRATIONS } from '../src/store/pg/migrate.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A copy of `folder` as it was before the email_verified migration (`…_accounts_by_email`): the
 * schema the build before it left, whatever migrations came after.
 */
function beforeEmailVerified(folder: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-migrations-'));
  dirs.push(dir);
  cpSync(folder, dir, { recursive: true });
  const journalFile = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((entry) => /_accounts_by_email$/.test(entry.tag));
  expect(at).toBeGreaterThan(0);
  journal.entries.splice(at);
  writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

const PERSON =
  'insert into users (id, email, display_name, password_hash, created_at, updated_at) ' +
  "values ('old', 'old@example.com', 'Old', 'h', 1, 1)";

describe('the email_verified migration', () => {
  it('marks the people already registered verified, on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-migrated-'));
    dirs.push(dir);
    const file = join(dir, 'tessera.db');
    const sqlite = new Database(file);
    sqliteMigrate(sqliteDrizzle(sqlite), { migrationsFolder: beforeEmailVerified(SQLITE_MIGRATIONS) });
    sqlite.exec(PERSON);
    sqlite.close();

    const store = await openStore(file);
    try {
      expect((await store.users.findBySub('old'))?.emailVerified).toBe(true);
      await store.users.create({ sub: 'new', email: 'new@example.com', displayName: 'New', passwordHash: 'h', now: 2 });
      expect((await store.users.findBySub('new'))?.emailVerified).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('marks the people already registered verified, on PostgreSQL', async () => {
    const server = await startThrowawayPostgres();
    try {
      const pool = new pg.Pool({ connectionString: server.url, max: 1 });
      try {
        await pgMigrate(pgDrizzle({ client: pool }), { migrationsFolder: beforeEmailVerified(PG_MIGRATIONS) });
        await pool.query(PERSON);
      } finally {
        await pool.end();
      }
      const store = await openStore(server.url);
      try {
        expect((await store.users.findBySub('old'))?.emailVerified).toBe(true);
        await store.users.create({
          sub: 'new',
          email: 'new@example.com',
          displayName: 'New',
          passwordHash: 'h',
          now: 2,
        });
        expect((await store.users.findBySub('new'))?.emailVerified).toBe(false);
      } finally {
        await store.close();
      }
    } finally {
      await server.stop();
    }
  });
});
