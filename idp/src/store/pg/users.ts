/** Users on PostgreSQL: the same contract as ../users.ts (email unique case-insensitively, `sub` stable). */
import { and, eq, ilike, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import { EmailTakenError, containsPattern, normalizeEmail, type User, type UserRepository } from '../users.js';
import type { PgDb } from './db.js';
import { isUniqueViolation, lookupBy } from './queries.js';
import { accessTokens, grants, users } from './schema.js';

type Row = typeof users.$inferSelect;
const toUser = (r: Row): User => ({
  sub: r.id,
  email: r.email,
  displayName: r.displayName,
  passwordHash: r.passwordHash,
  emailVerified: r.emailVerified,
  createdAt: r.createdAt,
  admin: r.isAdmin,
  disabledAt: r.disabledAt,
});

export function userRepository(db: PgDb): UserRepository {
  // Prepared: every sign-in and every token request reads a user.
  const byEmail = lookupBy(db, 'tessera_users_by_email', users, users.email);
  const bySub = lookupBy(db, 'tessera_users_by_sub', users, users.id);
  return {
    async create({ sub, email, displayName, passwordHash, emailVerified, now }) {
      try {
        const [row] = await db
          .insert(users)
          .values({
            id: sub,
            email: normalizeEmail(email),
            displayName,
            passwordHash,
            emailVerified: emailVerified ?? false,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        return toUser(row!);
      } catch (e) {
        // The unique index decides, not a read before the insert: two nodes may create the same email at once.
        if (isUniqueViolation(e, 'users_email_unique')) throw new EmailTakenError();
        throw e;
      }
    },
    async findByEmail(email) {
      const row = await byEmail(normalizeEmail(email));
      return row && toUser(row);
    },
    async findBySub(sub) {
      const row = await bySub(sub);
      return row && toUser(row);
    },
    async updatePasswordHash(sub, passwordHash, now) {
      await db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, sub));
    },
    async changeEmail(sub, from, to, now) {
      try {
        const r = await db
          .update(users)
          .set({ email: normalizeEmail(to), emailVerified: true, updatedAt: now })
          .where(and(eq(users.id, sub), eq(users.email, normalizeEmail(from))));
        return r.rowCount === 1;
      } catch (e) {
        if (isUniqueViolation(e, 'users_email_unique')) throw new EmailTakenError();
        throw e;
      }
    },
    async markEmailVerified(sub, email, now) {
      const r = await db
        .update(users)
        .set({ emailVerified: true, updatedAt: now })
        .where(and(eq(users.id, sub), eq(users.email, normalizeEmail(email))));
      return r.rowCount === 1;
    },
    async list() {
      return (await db.select().from(users).orderBy(users.createdAt)).map(toUser);
    },
    async delete(sub) {
      // As on SQLite: the access tokens' rows stay, detached, so their status-list bits stay set.
      return db.transaction(async (tx) => {
        const ofPerson = tx.select({ id: grants.id }).from(grants).where(eq(grants.userId, sub));
        await tx.update(accessTokens).set({ grantId: null }).where(inArray(accessTokens.grantId, ofPerson));
        return (await tx.delete(users).where(eq(users.id, sub))).rowCount === 1;
      });
    },
    async search(text, limit) {
      // ILIKE: case-insensitive as SQLite's LIKE is; `\\` is PostgreSQL's default LIKE escape too.
      const pattern = containsPattern(text);
      const rows = await db
        .select()
        .from(users)
        .where(or(ilike(users.email, pattern), ilike(users.displayName, pattern)))
        .orderBy(users.email)
        .limit(limit);
      return rows.map(toUser);
    },
    async setAdmin(sub, admin, now) {
      const rows = await db
        .update(users)
        .set({ isAdmin: admin, updatedAt: now })
        .where(and(eq(users.id, sub), eq(users.isAdmin, !admin)))
        .returning({ id: users.id });
      return rows.length > 0;
    },
    async setDisabled(sub, disabled, now) {
      const rows = await db
        .update(users)
        .set({ disabledAt: disabled ? now : null, updatedAt: now })
        .where(and(eq(users.id, sub), disabled ? isNull(users.disabledAt) : isNotNull(users.disabledAt)))
        .returning({ id: users.id });
      return rows.length > 0;
    },
  };
}
