/**
 * The PostgreSQL test run's server (vitest globalSetup of the `postgres` project, idp/vitest.config.ts):
 * one throwaway cluster of Debian's server for the whole run, with the template database migrated
 * once, which ./databases.ts copies into a database of its own for each issuer or store a test opens.
 * Without the server programs this fails, and with it the run, with the message saying how to
 * install them: the PostgreSQL run never passes without a server.
 */
import { startThrowawayPostgres } from '@tessera/shared/testing';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import { POSTGRES_TEMPLATE } from './databases.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startThrowawayPostgres({ database: POSTGRES_TEMPLATE });
  try {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    try {
      await migratePostgres(pool);
    } finally {
      // CREATE DATABASE … TEMPLATE refuses a template anyone is connected to.
      await pool.end();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
