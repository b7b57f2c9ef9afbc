/** The audit trail: security-relevant events, append-only, kept for the configured retention. */
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import { deleteExpiredBatch, insertInto, type Db } from './database.js';
import { auditEvents } from './schema.js';

export type AuditEvent = typeof auditEvents.$inferSelect;

export interface AuditFilter {
  type?: string;
  /** Times in milliseconds, both ends included. */
  since?: number;
  until?: number;
  subject?: string;
  clientId?: string;
}

export interface AuditRepository {
  record(e: Omit<AuditEvent, 'id'>): Promise<void>;
  /** Newest first; `before` is an event id, to page on from the last one seen (keyset paging). */
  list(filter: AuditFilter & { before?: number; limit: number }): Promise<AuditEvent[]>;
  /**
   * Forgets where a person was: the IP address of every event about `subject` (their account was
   * deleted). The events stay, with the subject id, as the record of what happened. Returns how many.
   */
  scrubSubject(subject: string): Promise<number>;
  /** Deletes up to `limit` events recorded before `before`; returns how many. */
  deleteBefore(before: number, limit: number): Promise<number>;
}

export function auditRepository(db: Db): AuditRepository {
  const insert = insertInto(db, auditEvents, ['id']);
  const removeOld = deleteExpiredBatch(db, auditEvents, auditEvents.id, auditEvents.at);
  return {
    async record(e) {
      insert(e);
    },
    async list({ type, since, until, subject, clientId, before, limit }) {
      const where: SQL[] = [];
      if (type) where.push(eq(auditEvents.type, type));
      if (since !== undefined) where.push(gte(auditEvents.at, since));
      if (until !== undefined) where.push(lte(auditEvents.at, until));
      if (subject !== undefined) where.push(eq(auditEvents.subject, subject));
      if (clientId !== undefined) where.push(eq(auditEvents.clientId, clientId));
      if (before !== undefined) where.push(lt(auditEvents.id, before));
      return db
        .select()
        .from(auditEvents)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(auditEvents.id))
        .limit(limit)
        .all();
    },
    async scrubSubject(subject) {
      return db.update(auditEvents).set({ ip: null }).where(eq(auditEvents.subject, subject)).run().changes;
    },
    async deleteBefore(before, limit) {
      return removeOld(before, limit);
    },
  };
}
