/** Users: email unique case-insensitively, `sub` opaque and stable. */
import { eq } from 'drizzle-orm';
import { lookupBy, type Db } from './database.js';
import { users } from './schema.js';

export interface User {
  sub: string;
  email: string;
  displayName: string;
  passwordHash: string;
  createdAt: number;
}

type Row = typeof users.$inferSelect;
const toUser = (r: Row): User => ({
  sub: r.id,
  email: r.email,
  displayName: r.displayName,
  passwordHash: r.passwordHash,
  createdAt: r.createdAt,
});

/** Email addresses compare case-insensitively; we keep the lower-cased form. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export interface UserRepository {
  create(u: { sub: string; email: string; displayName: string; passwordHash: string; now: number }): Promise<User>;
  findByEmail(email: string): Promise<User | undefined>;
  findBySub(sub: string): Promise<User | undefined>;
  updatePasswordHash(sub: string, passwordHash: string, now: number): Promise<void>;
  list(): Promise<User[]>;
}

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
    async create({ sub, email, displayName, passwordHash, now }) {
      try {
        const row = db
          .insert(users)
          .values({ id: sub, email: normalizeEmail(email), displayName, passwordHash, createdAt: now, updatedAt: now })
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
    async list() {
      return db.select().from(users).orderBy(users.createdAt).all().map(toUser);
    },
  };
}
