/**
 * The issuer's suite runs twice, once per database engine, as two vitest projects: `sqlite` (each
 * issuer on a file of its own) and `postgres` (one throwaway PostgreSQL server for the run, each
 * issuer on a database of its own; test/support/postgres-setup.ts). A test sees only a database
 * location (test/support/databases.ts); a behaviour that differs between the engines is a bug.
 * `npx vitest run --project postgres test/foo.test.ts` runs one file on one engine.
 */
import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.base.js';

/** Files that test what only SQLite has, left out of the PostgreSQL run. */
const SQLITE_ONLY = [
  // The WAL checkpoints, on a thread of their own.
  'test/store-checkpoints.test.ts',
  // SQLite's query plans (EXPLAIN QUERY PLAN of what better-sqlite3 prepares).
  'test/store-query-plans.test.ts',
  // Waits on SQLite's single write lock, held by another connection (busy_timeout).
  'test/store-write-lock.test.ts',
  // The SQLite repositories' transactions (better-sqlite3's, made once per connection).
  'test/store-transaction.test.ts',
];

/**
 * Files that choose their engines themselves, on servers of their own: each case on SQLite and on
 * PostgreSQL, or several issuer nodes on one PostgreSQL database. They run once, in the SQLite
 * project, not once per engine.
 */
const ENGINES_OF_THEIR_OWN = [
  'test/store-pg-*.test.ts',
  'test/store-engines-*.test.ts',
  // Opening each engine by its location, and the readiness probe on each.
  'test/store-open.test.ts',
  // A database that cannot serve for now: PostgreSQL refusing the node, SQLite's lock held.
  'test/store-unavailable.test.ts',
  // Three issuer nodes on one PostgreSQL database (test/support/nodes.ts).
  'test/nodes.test.ts',
  'test/nodes-keys.test.ts',
  // A database at the previous migration, on each engine, opened by this build.
  'test/sign-up-migration.test.ts',
];

export default mergeConfig(
  base,
  defineConfig({
    // The global setup runs in vitest's own environment, which takes no conditions from the base
    // config's: without @tessera/source, @tessera/shared would resolve to a dist that need not exist.
    environments: { __vitest__: { resolve: { conditions: ['@tessera/source', 'node'] } } },
    test: {
      // Two files at a time even on two cores (vitest's default there is one): a file spends much
      // of its time waiting on argon2's threads, a child process or PostgreSQL, not on its own CPU.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      projects: [
        { extends: true, test: { name: 'sqlite', env: { TESSERA_TEST_ENGINE: 'sqlite' } } },
        {
          extends: true,
          test: {
            name: 'postgres',
            env: { TESSERA_TEST_ENGINE: 'postgres' },
            exclude: [...configDefaults.exclude, ...SQLITE_ONLY, ...ENGINES_OF_THEIR_OWN],
            globalSetup: ['test/support/postgres-setup.ts'],
          },
        },
      ],
    },
  }),
);
