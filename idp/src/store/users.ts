/** Users: email unique case-insensitively, `sub` opaque and stable. */
import { and, eq, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { lookupBy, transaction, type Db } from './database.js';
import { accessTokens, grants, users } from './schema.js';

export interface User {
  sub: string;
  email: string;
  displayName: string;
  passwordHash: string;
  /** Whether the person showed they receive mail at `email`, or an operator vouched for it. */
  emailVerified: boolean;
  createdAt: number;
  /** May use the admin console. */
  admin: boolean;
  /** When the account was disabled; null while it may sign in. */
  disabledAt: number | null;
}

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

/** Email addresses compare case-insensitively; we keep the lower-cased form. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export interface UserRepository {
  create(u: {
    sub: string;
    email: string;
    displayName: string;
    passwordHash: string;
    /** Unverified unless said (the column's default). */
    emailVerified?: boolean;
    now: number;
  }): Promise<User>;
  findByEmail(email: string): Promise<User | undefined>;
  findBySub(sub: string): Promise<User | undefined>;
  updatePasswordHash(sub: string, passwordHash: string, now: number): Promise<void>;
  /**
   * Moves the account from address `from` to `to` (verified: a link sent there was followed), if
   * `from` is still its address: true when it moved. Throws EmailTakenError when `to` is another
   * account's: the unique index decides between two people claiming one address.
   */
  changeEmail(sub: string, from: string, to: string, now: number): Promise<boolean>;
  /** Marks `email` verified, if it is still the account's address: true when it was. */
  markEmailVerified(sub: string, email: string, now: number): Promise<boolean>;
  list(): Promise<User[]>;
  /**
   * Deletes the person and, by the schema's cascades, everything of theirs: sessions, grants and
   * refresh tokens, consents, passkeys, second factors. False when there was no such person. Their
   * access tokens' rows are kept, detached from the grants (nothing in them names the person): a
   * status list is rebuilt from the revoked rows, and a row gone would clear a revoked token's bit
   * while the token is still within its `exp`. The expiry sweep takes them 5 min after they expire.
   */
  delete(sub: string): Promise<boolean>;
  /**
   * People whose email or name contains `text` (case-insensitively for ASCII, `%` and `_` taken
   * literally), by email, at most `limit`.
   */
  search(text: string, limit: number): Promise<User[]>;
  /** Grants or takes back the admin role; false when it was already so (nothing changed). */
  setAdmin(sub: string, admin: boolean, now: number): Promise<boolean>;
  /**
   * Disables the account at `now` (`disabled` true) or enables it; false when it was already so,
   * so two admins acting at once record one change.
   */
  setDisabled(sub: string, disabled: boolean, now: number): Promise<boolean>;
}

/** A LIKE pattern that matches `text` anywhere, with LIKE's own wildcards escaped (escape character `\`). */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export class EmailTakenError extends Error {
  constructor() {
    super('a user with this email already exists');
    this.name = 'EmailTakenError';
  }
}

export function userRepository(db: Db): UserRepository {
  const byEmail = lookupBy(db, users, users.email);
  const bySub = lookupBy(db, users, users.id);
  return {
    async create({ sub, email, displayName, passwordHash, emailVerified, now }) {
      try {
        const row = db
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
          .returning()
          .get();
        return toUser(row);
      } catch (e) {
        if (e instanceof Error && /UNIQUE constraint failed: users\.email/.test(e.message)) throw new EmailTakenError();
        throw e;
      }
    },
    async findByEmail(email) {
      const row = byEmail(normalizeEmail(email));
      return row && toUser(row);
    },
    async findBySub(sub) {
      const row = bySub(sub);
      return row && toUser(row);
    },
    async updatePasswordHash(sub, passwordHash, now) {
      db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, sub)).run();
    },
    async changeEmail(sub, from, to, now) {
      try {
        return (
          db
            .update(users)
            .set({ email: normalizeEmail(to), emailVerified: true, updatedAt: now })
            .where(and(eq(users.id, sub), eq(users.email, normalizeEmail(from))))
            .run().changes === 1
        );
      } catch (e) {
        if (e instanceof Error && /UNIQUE constraint failed: users\.email/.test(e.message)) throw new EmailTakenError();
        throw e;
      }
    },
    async markEmailVerified(sub, email, now) {
      return (
        db
          .update(users)
          .set({ emailVerified: true, updatedAt: now })
          .where(and(eq(users.id, sub), eq(users.email, normalizeEmail(email))))
          .run().changes === 1
      );
    },
    async list() {
      return db.select().from(users).orderBy(users.createdAt).all().map(toUser);
    },
    async delete(sub) {
      return transaction(db, (tx) => {
        const ofPerson = tx.select({ id: grants.id }).from(grants).where(eq(grants.userId, sub));
        tx.update(accessTokens).set({ grantId: null }).where(inArray(accessTokens.grantId, ofPerson)).run();
        return tx.delete(users).where(eq(users.id, sub)).run().changes === 1;
      });
    },
    async search(text, limit) {
      const pattern = containsPattern(text);
      return (
        db
          .select()
          .from(users)
          // SQLite's LIKE has no escape character unless one is named.
          .where(
            or(sql`${users.email} LIKE ${pattern} ESCAPE '\\'`, sql`${users.displayName} LIKE ${pattern} ESCAPE '\\'`),
          )
          .orderBy(users.email)
          .limit(limit)
          .all()
          .map(toUser)
      );
    },
    async setAdmin(sub, admin, now) {
      const changed = db
        .update(users)
        .set({ isAdmin: admin, updatedAt: now })
        .where(and(eq(users.id, sub), eq(users.isAdmin, !admin)))
        .run();
      return changed.changes > 0;
    },
    async setDisabled(sub, disabled, now) {
      const changed = db
        .update(users)
        .set({ disabledAt: disabled ? now : null, updatedAt: now })
        .where(and(eq(users.id, sub), disabled ? isNull(users.disabledAt) : isNotNull(users.disabledAt)))
        .run();
      return changed.changes > 0;
    },
  };
}
