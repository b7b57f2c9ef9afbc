/**
 * A person's second factors: their TOTP authenticator and their recovery codes. Each use is a
 * conditional update, so of two concurrent uses of one code exactly one passes, on any node.
 */
import { and, count, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { lookupBy, transaction, type Db } from './database.js';
import { recoveryCodes, totpAuthenticators } from './schema.js';

export type TotpAuthenticator = typeof totpAuthenticators.$inferSelect;

export interface SecondFactorRepository {
  /** The person's authenticator, confirmed or still being enrolled. */
  findTotp(userId: string): Promise<TotpAuthenticator | undefined>;
  /**
   * Starts an enrolment with this (encrypted) secret, replacing one not yet confirmed; false when
   * an authenticator is already active (it must be removed first).
   */
  startTotp(userId: string, secretEncrypted: string, now: number): Promise<boolean>;
  /** Makes a pending enrolment active, its first code used (`step`); true for exactly one caller. */
  confirmTotp(userId: string, step: number, now: number): Promise<boolean>;
  /**
   * Records the use of an active authenticator's code of time step `step`: true only if no code of
   * that step or a later one was used before (RFC 6238 §5.2), for exactly one of concurrent callers.
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Removes the person's authenticator, active or pending; true if there was one. */
  removeTotp(userId: string): Promise<boolean>;
  /** Replaces every recovery code of the person with these digests, in one transaction. */
  replaceRecoveryCodes(userId: string, digests: readonly string[], now: number): Promise<void>;
  /** Marks an unused code used; true for exactly one caller. */
  useRecoveryCode(userId: string, digest: string, now: number): Promise<boolean>;
  /** How many unused recovery codes the person has. */
  remainingRecoveryCodes(userId: string): Promise<number>;
}

export function secondFactorRepository(db: Db): SecondFactorRepository {
  const t = totpAuthenticators;
  // Every authorization request asks whether its person has a second factor (requiredAcr).
  const totpOf = lookupBy(db, t, t.userId);
  return {
    async findTotp(userId) {
      return totpOf(userId);
    },
    async startTotp(userId, secretEncrypted, now) {
      return transaction(db, (tx) => {
        tx.delete(t)
          .where(and(eq(t.userId, userId), isNull(t.confirmedAt)))
          .run();
        const r = tx
          .insert(t)
          .values({ userId, secretEncrypted, createdAt: now, confirmedAt: null, lastUsedStep: null })
          .onConflictDoNothing()
          .run();
        return r.changes === 1;
      });
    },
    async confirmTotp(userId, step, now) {
      const r = db
        .update(t)
        .set({ confirmedAt: now, lastUsedStep: step })
        .where(and(eq(t.userId, userId), isNull(t.confirmedAt)))
        .run();
      return r.changes === 1;
    },
    async useTotpStep(userId, step) {
      const r = db
        .update(t)
        .set({ lastUsedStep: step })
        .where(
          and(eq(t.userId, userId), isNotNull(t.confirmedAt), or(isNull(t.lastUsedStep), lt(t.lastUsedStep, step))),
        )
        .run();
      return r.changes === 1;
    },
    async removeTotp(userId) {
      return db.delete(t).where(eq(t.userId, userId)).run().changes === 1;
    },
    async replaceRecoveryCodes(userId, digests, now) {
      transaction(db, (tx) => {
        tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)).run();
        if (digests.length > 0)
          tx.insert(recoveryCodes)
            .values(digests.map((digest) => ({ userId, digest, createdAt: now, usedAt: null })))
            .run();
      });
    },
    async useRecoveryCode(userId, digest, now) {
      const r = db
        .update(recoveryCodes)
        .set({ usedAt: now })
        .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.digest, digest), isNull(recoveryCodes.usedAt)))
        .run();
      return r.changes === 1;
    },
    async remainingRecoveryCodes(userId) {
      const row = db
        .select({ n: count() })
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
        .get();
      return row?.n ?? 0;
    },
  };
}
