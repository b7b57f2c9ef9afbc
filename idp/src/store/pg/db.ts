/** The drizzle handle on PostgreSQL that the PostgreSQL repositories (./*.ts) are built on. */
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema>;
