/** A person's second factors on PostgreSQL: the contract of ../second-factors.ts. */
import { and, count, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type { SecondFactorRepository } from '../second-factors.js';
import type { PgDb } from './db.js';
import { lookupBy } from './queries.js';
import { recoveryCodes, totpAuthenticators } from './schema.js';

export function secondFactorRepository(db: PgDb): SecondFactorRepository {
  const t = totpAuthenticators;
  // Every authorization request asks whether its person has a second factor (requiredAcr).
  const totpOf = lookupBy(db, 'tessera_totp_authenticators_by_user', t, t.userId);
  return {
    async findTotp(userId) {
      return totpOf(userId);
    },
    async startTotp(userId, secretEncrypted, now) {
      return db.transaction(async (tx) => {
        await tx.delete(t).where(and(eq(t.userId, userId), isNull(t.confirmedAt)));
        // An active one keeps its row: the insert is the arbiter, and does nothing then.
        const r = await tx
          .insert(t)
          .values({ userId, secretEncrypted, createdAt: now, confirmedAt: null, lastUsedStep: null })
          .onConflictDoNothing();
        return r.rowCount === 1;
      });
    },
    async confirmTotp(userId, step, now) {
      const r = await db
        .update(t)
        .set({ confirmedAt: now, lastUsedStep: step })
        .where(and(eq(t.userId, userId), isNull(t.confirmedAt)));
      return r.rowCount === 1;
    },
    async useTotpStep(userId, step) {
      // The condition is re-checked on the row after any concurrent update commits (READ COMMITTED):
      // of two uses of one step, the second finds it used.
      const r = await db
        .update(t)
        .set({ lastUsedStep: step })
        .where(
          and(eq(t.userId, userId), isNotNull(t.confirmedAt), or(isNull(t.lastUsedStep), lt(t.lastUsedStep, step))),
        );
      return r.rowCount === 1;
    },
    async removeTotp(userId) {
      const r = await db.delete(t).where(eq(t.userId, userId));
      return r.rowCount === 1;
    },
    async replaceRecoveryCodes(userId, digests, now) {
      await db.transaction(async (tx) => {
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        if (digests.length > 0)
          await tx
            .insert(recoveryCodes)
            .values(digests.map((digest) => ({ userId, digest, createdAt: now, usedAt: null })));
      });
    },
    async useRecoveryCode(userId, digest, now) {
      const r = await db
        .update(recoveryCodes)
        .set({ usedAt: now })
        .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.digest, digest), isNull(recoveryCodes.usedAt)));
      return r.rowCount === 1;
    },
    async remainingRecoveryCodes(userId) {
      const [row] = await db
        .select({ n: count() })
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
      return Number(row?.n ?? 0);
    },
  };
}
