/**
 * Asking a signed-in person for their current password before a change only they may make (a new
 * password, deleting the account): someone who finds a session left open does not know it. Checked
 * under the sign-in throttle (sign-in-throttle.ts), so a session gives no faster way to guess it.
 */
import type { IssuerContext } from '../context.js';
import type { User } from '../store/index.js';
import { audit } from './audit.js';
import { BadCredentialsError, type SignInRefusal } from './credentials.js';
import { attemptSignIn } from './sign-in-throttle.js';

export class CurrentPasswordRefused extends Error {
  constructor(readonly reason: SignInRefusal) {
    super(
      reason === 'bad_credentials'
        ? 'That is not your current password.'
        : 'Too many wrong passwords. Wait a few minutes, then try again.',
    );
    this.name = 'CurrentPasswordRefused';
  }
}

/** Resolves when `password` is `user`'s; throws CurrentPasswordRefused (wrong or throttled) otherwise. */
export async function checkCurrentPassword(
  ctx: IssuerContext,
  user: User,
  password: string,
  ip: string,
  action: 'password_change' | 'account_deletion',
): Promise<void> {
  try {
    await attemptSignIn(ctx, user.email, password, ip);
  } catch (e) {
    if (!(e instanceof BadCredentialsError)) throw e;
    await audit(ctx, 'current_password.refused', { subject: user.sub, ip, detail: { action, reason: e.reason } });
    throw new CurrentPasswordRefused(e.reason);
  }
}
