/**
 * Password hashing: argon2id at the OWASP Password Storage Cheat Sheet parameters
 * (m=19456 KiB, t=2, p=1). The native hash runs on libuv's thread pool, off the event loop.
 * Passwords are hashed and verified in their NFKC form (normalizePassword), the one place it is
 * applied, so every path that sets or checks a password agrees.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/** `Algorithm.Argon2id` (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2 as Algorithm.Argon2id;

export interface PasswordParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * The form a password is hashed, verified and measured in: NFKC (NIST SP 800-63B-4 §3.1.1.2, UAX #15
 * §12.1), so the same password typed on two keyboards — a precomposed "é" or "e" and a combining
 * accent, a full-width digit or an ASCII one — is the same password.
 */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

/** OWASP's first recommended argon2id configuration. */
export const OWASP_ARGON2ID: PasswordParams = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

const PHC_PARAMS = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; `needsRehash` is true when the stored hash used other parameters. */
  verify(storedHash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Costs the same as a wrong password, for unknown accounts (no user enumeration by timing). */
  verifyDummy(password: string): Promise<void>;
}

/** Creates a hasher; the dummy hash for unknown accounts is made once, here. */
export async function createPasswordHasher(params: PasswordParams = OWASP_ARGON2ID): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params };
  const dummyHash = await hash('tessera-no-such-account', options);
  return {
    hash: (password) => hash(normalizePassword(password), options),
    async verify(storedHash, password) {
      const attempt = async (candidate: string) => {
        try {
          return await verify(storedHash, candidate);
        } catch {
          return false;
        }
      };
      const normalized = normalizePassword(password);
      let ok = await attempt(normalized);
      // A hash made before passwords were normalized holds the password as typed: it still
      // verifies, and is made again in the normalized form (needsRehash).
      const asTyped = !ok && normalized !== password && (await attempt(password));
      ok ||= asTyped;
      const m = PHC_PARAMS.exec(storedHash);
      const needsRehash =
        asTyped ||
        !m ||
        Number(m[1]) !== params.memoryCost ||
        Number(m[2]) !== params.timeCost ||
        Number(m[3]) !== params.parallelism;
      return { ok, needsRehash };
    },
    async verifyDummy(password) {
      // As many verifications as a wrong password for an existing account costs.
      const normalized = normalizePassword(password);
      await verify(dummyHash, normalized).catch(() => false);
      if (normalized !== password) await verify(dummyHash, password).catch(() => false);
    },
  };
}
