/**
 * The database engine the test run uses, and fresh databases on it. The vitest project sets
 * TESSERA_TEST_ENGINE (idp/vitest.config.ts): `sqlite` (a file in a temp dir) or `postgres` (a
 * database of its own on the run's throwaway server, copied from the migrated template that
 * ./postgres-setup.ts prepared). Tests see a location, as TESSERA_DATABASE takes it, and never
 * which engine is behind it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { numberPlaceholders } from '../../src/store/pg/database.js';

export type TestEngine = 'sqlite' | 'postgres';

export const TEST_ENGINE: TestEngine = process.env.TESSERA_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The template every test database on PostgreSQL is copied from (migrated once per run). */
export const POSTGRES_TEMPLATE = 'tessera_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's throwaway PostgreSQL server (./postgres-setup.ts), when the engine is PostgreSQL. */
    postgresUrl: string;
  }
}

/**
 * A new, empty database on the run's engine, as a location (a file path or a postgres:// URL: what
 * TESSERA_DATABASE and openStore take). On PostgreSQL a copy of the migrated template.
 */
export async function freshDatabase(): Promise<string> {
  if (TEST_ENGINE === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'tessera-idp-')), 'tessera.db');
  const name = `t_${randomBytes(8).toString('hex')}`;
  await administer(`create database ${name} template ${POSTGRES_TEMPLATE}`);
  const location = new URL(inject('postgresUrl'));
  location.pathname = `/${name}`;
  return location.href;
}

/** Removes a database `freshDatabase` made (again: nothing), with whatever still has it open. */
export async function dropDatabase(location: string): Promise<void> {
  if (TEST_ENGINE === 'sqlite') {
    rmSync(dirname(location), { recursive: true, force: true });
    return;
  }
  const name = new URL(location).pathname.slice(1);
  // FORCE: an issuer restarted on the same database, or a process a test killed, may still hold sessions.
  await administer(`drop database if exists ${name} with (force)`);
}

/** One statement on the server's maintenance database (CREATE/DROP DATABASE run outside any other). */
async function administer(statement: string): Promise<void> {
  const url = new URL(inject('postgresUrl'));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A connection that reads what issuer processes wrote, without opening a store (no migrations, no checkpoints). */
export interface Reader {
  query(text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Opens a Reader on the database at `location` (which must exist); `?` placeholders on both engines. */
export async function openReader(location: string): Promise<Reader> {
  if (TEST_ENGINE === 'sqlite') {
    const db = new Database(location, { readonly: true, fileMustExist: true });
    return {
      query: async (text, params = []) => db.prepare(text).all(...params) as Record<string, unknown>[],
      close: async () => void db.close(),
    };
  }
  // Times are bigint columns: read as numbers, as the store reads them (they stay below 2^53).
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? Number : pg.types.getTypeParser(oid, format),
  };
  const client = new pg.Client({ connectionString: location, types });
  await client.connect();
  return {
    query: async (text, params = []) => (await client.query(numberPlaceholders(text), [...params])).rows,
    close: () => client.end(),
  };
}

/** Runs `read` on a Reader of the database at `location`, closed again after it. */
export async function readDatabase<T>(location: string, read: (reader: Reader) => Promise<T>): Promise<T> {
  const reader = await openReader(location);
  try {
    return await read(reader);
  } finally {
    await reader.close();
  }
}

export type OpenedStore = Awaited<ReturnType<typeof openStore>>;

/** Opens the store at `location` for the length of `use`, e.g. to read what an issuer process wrote. */
export async function withStore<T>(location: string, use: (store: OpenedStore) => Promise<T>): Promise<T> {
  const store = await openStore(location);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
