/**
 * Links mailed to a person (schema.ts, `email_links`): the digest of each link's token, whose it
 * is, until when it works, and whether it was used. Each change is one statement or one
 * transaction, so two uses of one link, or a use racing a newer link, have one outcome.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { deleteExpiredBatch, transaction, type Db } from './database.js';
import { emailLinks } from './schema.js';

export type EmailLinkPurpose = 'password_reset' | 'email_verification' | 'email_change' | 'invitation';

export interface EmailLink {
  /** SHA-256 of the link's token (base64url). */
  digest: string;
  purpose: EmailLinkPurpose;
  /** The account it acts on; null for an address with no account. */
  userId: string | null;
  /** The address it was sent to, lower-cased. */
  email: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** Whose link it is: a person by `sub`, or an address with no account. */
export const holderOf = (link: Pick<EmailLink, 'userId' | 'email'>): string => link.userId ?? `email:${link.email}`;

export interface EmailLinkRepository {
  /**
   * Stores a new, unused link and, in the same transaction, voids the unused links of the same
   * purpose and holder: only the newest link of a kind works.
   */
  issue(link: Omit<EmailLink, 'usedAt'>): Promise<void>;
  /** The link with this digest and purpose if it is unused and unexpired at `now`. */
  findUsable(digest: string, purpose: EmailLinkPurpose, now: number): Promise<EmailLink | undefined>;
  /**
   * Uses the link: marks it used if it is unused and unexpired at `now`, and returns it; of any
   * number of concurrent uses, one gets it and the others undefined.
   */
  use(digest: string, purpose: EmailLinkPurpose, now: number): Promise<EmailLink | undefined>;
  /** Voids every unused link of `purpose` for the account; returns how many. */
  voidForUser(userId: string, purpose: EmailLinkPurpose, now: number): Promise<number>;
  /** Deletes up to `limit` links that expired before `before`; returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
}

type Row = typeof emailLinks.$inferSelect;
export const toEmailLink = (r: Row): EmailLink => ({
  digest: r.digest,
  purpose: r.purpose as EmailLinkPurpose,
  userId: r.userId,
  email: r.email,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  usedAt: r.usedAt,
});

export function emailLinkRepository(db: Db): EmailLinkRepository {
  const t = emailLinks;
  const p = sql.placeholder;
  const usable = and(
    eq(t.digest, p('digest')),
    eq(t.purpose, p('purpose')),
    isNull(t.usedAt),
    gt(t.expiresAt, p('now')),
  );
  const find = db.select().from(t).where(usable).prepare();
  const use = db
    .update(t)
    .set({ usedAt: sql`${p('now')}` })
    .where(usable)
    .returning()
    .prepare();
  const removeExpired = deleteExpiredBatch(db, t, t.digest, t.expiresAt);
  return {
    async issue(link) {
      const holder = holderOf(link);
      transaction(db, (tx) => {
        tx.update(t)
          .set({ usedAt: link.createdAt })
          .where(and(eq(t.purpose, link.purpose), eq(t.holder, holder), isNull(t.usedAt)))
          .run();
        tx.insert(t)
          .values({ ...link, holder, usedAt: null })
          .run();
      });
    },
    async findUsable(digest, purpose, now) {
      const row = find.get({ digest, purpose, now });
      return row && toEmailLink(row);
    },
    async use(digest, purpose, now) {
      const row = use.get({ digest, purpose, now });
      return row && toEmailLink(row);
    },
    async voidForUser(userId, purpose, now) {
      return db
        .update(t)
        .set({ usedAt: now })
        .where(and(eq(t.userId, userId), eq(t.purpose, purpose), isNull(t.usedAt)))
        .run().changes;
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
