/** The audit trail: security-relevant events, append-only. */
import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import { insertInto, type Db } from './database.js';
import { auditEvents } from './schema.js';

export type AuditEvent = typeof auditEvents.$inferSelect;

export interface AuditRepository {
  record(e: Omit<AuditEvent, 'id'>): Promise<void>;
  list(filter: { type?: string; since?: number; limit: number }): Promise<AuditEvent[]>;
}

export function auditRepository(db: Db): AuditRepository {
  const insert = insertInto(db, auditEvents, ['id']);
  return {
    async record(e) {
      insert(e);
    },
    async list({ type, since, limit }) {
      const where: SQL[] = [];
      if (type) where.push(eq(auditEvents.type, type));
      if (since !== undefined) where.push(gte(auditEvents.at, since));
      return db
        .select()
        .from(auditEvents)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(auditEvents.id))
        .limit(limit)
        .all();
    },
  };
}
