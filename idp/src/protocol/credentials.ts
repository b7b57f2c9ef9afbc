/**
 * Checking an email and password. Every failure is the same error, and an unknown email costs
 * the same argon2id verification as a wrong password, so neither the answer nor its timing
 * tells whether an account exists.
 */
import type { IssuerContext } from '../context.js';
import type { User } from '../store/index.js';

/** Why a sign-in was refused: for the audit trail and the log, never for the page. */
export type SignInRefusal = 'bad_credentials' | 'throttled' | 'locked';

export class BadCredentialsError extends Error {
  constructor(
    readonly reason: SignInRefusal = 'bad_credentials',
    /** The `sub` of the account the email names, if any (audit only). */
    readonly subject: string | null = null,
  ) {
    super('Incorrect email or password.');
    this.name = 'BadCredentialsError';
  }
}

/**
 * Longest accepted password: bounds hashing work (argon2 is costly per byte only marginally, but
 * input is untrusted).
 */
export const MAX_PASSWORD_LENGTH = 1024;

/** Unthrottled: anything facing the network goes through attemptSignIn (sign-in-throttle.ts) instead. */
export async function checkCredentials(ctx: IssuerContext, email: string, password: string): Promise<User> {
  if (email.length > 320 || password.length > MAX_PASSWORD_LENGTH) {
    await ctx.passwords.verifyDummy(password.slice(0, MAX_PASSWORD_LENGTH));
    throw new BadCredentialsError();
  }
  const user = await ctx.store.users.findByEmail(email);
  if (!user) {
    await ctx.passwords.verifyDummy(password);
    throw new BadCredentialsError();
  }
  const { ok, needsRehash } = await ctx.passwords.verify(user.passwordHash, password);
  if (!ok) throw new BadCredentialsError('bad_credentials', user.sub);
  // Parameters moved on since this hash was made: upgrade it now that we know the password.
  if (needsRehash)
    await ctx.store.users.updatePasswordHash(user.sub, await ctx.passwords.hash(password), ctx.clock.now());
  return user;
}
