/**
 * Links mailed to a person on PostgreSQL: the contract of ../email-links.ts. A use is `UPDATE …
 * WHERE used_at IS NULL … RETURNING`: a concurrent use on any node waits for the row lock, then
 * finds the link used.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import { holderOf, toEmailLink, type EmailLinkPurpose, type EmailLinkRepository } from '../email-links.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { emailLinks } from './schema.js';

/** A value PostgreSQL's text cannot hold (NUL) matches no row: answered without asking it. */
const storable = (s: string) => !s.includes('\u0000');

export function emailLinkRepository(db: PgDb): EmailLinkRepository {
  const t = emailLinks;
  const usable = (digest: string, purpose: EmailLinkPurpose, now: number) =>
    and(eq(t.digest, digest), eq(t.purpose, purpose), isNull(t.usedAt), gt(t.expiresAt, now));
  const removeExpired = deleteExpiredBatch(db, t, t.digest, t.expiresAt);
  return {
    async issue(link) {
      const holder = holderOf(link);
      await db.transaction(async (tx) => {
        await tx
          .update(t)
          .set({ usedAt: link.createdAt })
          .where(and(eq(t.purpose, link.purpose), eq(t.holder, holder), isNull(t.usedAt)));
        await tx.insert(t).values({ ...link, holder, usedAt: null });
      });
    },
    async findUsable(digest, purpose, now) {
      if (!storable(digest)) return undefined;
      const [row] = await db
        .select()
        .from(t)
        .where(usable(digest, purpose, now));
      return row && toEmailLink(row);
    },
    async use(digest, purpose, now) {
      if (!storable(digest)) return undefined;
      const [row] = await db
        .update(t)
        .set({ usedAt: now })
        .where(usable(digest, purpose, now))
        .returning();
      return row && toEmailLink(row);
    },
    async voidForUser(userId, purpose, now) {
      const r = await db
        .update(t)
        .set({ usedAt: now })
        .where(and(eq(t.userId, userId), eq(t.purpose, purpose), isNull(t.usedAt)));
      return r.rowCount ?? 0;
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
