/** The drizzle handle on PostgreSQL that the PostgreSQL repositories (./*.ts) are built on. */
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type * as schema from './schema.js';

/** Drizzle over the pool, which it keeps as `$client`. */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };
