/** The audit trail on PostgreSQL, append-only: the contract of ../audit.ts. */
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { AuditRepository } from '../audit.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { auditEvents } from './schema.js';

export function auditRepository(db: PgDb): AuditRepository {
  const removeOld = deleteExpiredBatch(db, auditEvents, auditEvents.id, auditEvents.at);
  return {
    async record(e) {
      await db.insert(auditEvents).values({
        at: e.at,
        type: e.type,
        subject: e.subject,
        clientId: e.clientId,
        ip: e.ip,
        detail: e.detail,
      });
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
        .limit(limit);
    },
    async scrubSubject(subject) {
      return (await db.update(auditEvents).set({ ip: null }).where(eq(auditEvents.subject, subject))).rowCount ?? 0;
    },
    async deleteBefore(before, limit) {
      return removeOld(before, limit);
    },
  };
}
