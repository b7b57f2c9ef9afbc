/**
 * The two engines the relying-party store runs on, for tests that run on both: a fresh SQLite file
 * in a temp dir, or a fresh database on a real PostgreSQL server (started once per test file, at
 * the first fresh database asked for; startThrowawayPostgres fails with the install command when
 * the server is missing, so no test passes without one). Call `stopEngines` in the file's afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../src/testing/throwaway-postgres.js';

export interface Engine {
  name: 'SQLite' | 'PostgreSQL';
  /** A fresh, empty database's location: a file path or a postgres:// URL. */
  fresh(): Promise<string>;
  /** One SQL statement straight on the database, for what the store does not show (row counts). */
  query(location: string, text: string): Promise<Record<string, unknown>[]>;
}

let dir: string | undefined;
let files = 0;
let server: Promise<ThrowawayPostgres> | undefined;
let databases = 0;

export const sqliteEngine: Engine = {
  name: 'SQLite',
  async fresh() {
    dir ??= mkdtempSync(join(tmpdir(), 'tessera-rp-store-'));
    return join(dir, `store-${++files}.db`);
  },
  async query(location, text) {
    const db = new Database(location);
    try {
      const statement = db.prepare(text);
      if (statement.reader) return statement.all() as Record<string, unknown>[];
      statement.run();
      return [];
    } finally {
      db.close();
    }
  },
};

async function pgQuery(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

export const postgresEngine: Engine = {
  name: 'PostgreSQL',
  async fresh() {
    server ??= startThrowawayPostgres();
    const { url } = await server;
    const name = `rp_store_${++databases}`;
    await pgQuery(url, `CREATE DATABASE ${name}`);
    const location = new URL(url);
    location.pathname = `/${name}`;
    return location.toString();
  },
  query: pgQuery,
};

export const engines: readonly Engine[] = [sqliteEngine, postgresEngine];

/** Stops the PostgreSQL server and removes the SQLite files. */
export async function stopEngines(): Promise<void> {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  const started = server;
  server = undefined;
  if (started) await (await started).stop();
}
