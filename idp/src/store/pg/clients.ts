/** Registered clients (RFC 6749 §2) and resources (RFC 8707) on PostgreSQL: the contracts of ../clients.ts. */
import { eq } from 'drizzle-orm';
import type { Client, ClientParty, ClientRepository, ClientType, ResourceRepository } from '../clients.js';
import type { PgDb } from './db.js';
import { lookupBy } from './queries.js';
import { clients, resources } from './schema.js';

type Row = typeof clients.$inferSelect;
const toClient = (r: Row): Client => ({ ...r, type: r.type as ClientType, party: r.party as ClientParty });

export function clientRepository(db: PgDb): ClientRepository {
  // Prepared: every authorization and token request reads its client.
  const byId = lookupBy(db, 'tessera_clients_by_id', clients, clients.id);
  return {
    async create(c) {
      const [row] = await db.insert(clients).values(c).returning();
      return toClient(row!);
    },
    async findById(id) {
      const row = await byId(id);
      return row && toClient(row);
    },
    async list() {
      return (await db.select().from(clients).orderBy(clients.createdAt)).map(toClient);
    },
    async update(c) {
      await db.update(clients).set(c).where(eq(clients.id, c.id));
    },
    async delete(id) {
      return (await db.delete(clients).where(eq(clients.id, id))).rowCount === 1;
    },
  };
}

export function resourceRepository(db: PgDb): ResourceRepository {
  return {
    async create(r) {
      const [row] = await db.insert(resources).values(r).returning();
      return row!;
    },
    async findById(id) {
      const [row] = await db.select().from(resources).where(eq(resources.id, id)).limit(1);
      return row;
    },
    async list() {
      return db.select().from(resources).orderBy(resources.createdAt);
    },
  };
}
