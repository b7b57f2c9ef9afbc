/**
 * A disabled account: an admin (or the CLI) stopped it. It is refused at every sign-in, but only
 * once the password, passkey or code was right, so the message tells nothing to someone who does
 * not already hold the account's credentials (no account enumeration).
 */
import type { IssuerContext } from '../context.js';
import type { User } from '../store/index.js';
import { audit } from './audit.js';

export const ACCOUNT_DISABLED = 'This account is disabled. Ask your administrator to enable it.';

export const isDisabled = (user: User): boolean => user.disabledAt !== null;

/**
 * Undefined when `user` may sign in; else the message to show, the refusal audited. `method` is
 * how they proved who they are (password, passkey, second factor).
 */
export async function refuseDisabledSignIn(
  ctx: IssuerContext,
  user: User,
  attempt: { clientId: string | null; ip: string; method: string },
): Promise<string | undefined> {
  if (!isDisabled(user)) return undefined;
  ctx.log.info('sign_in.refused', { sub: user.sub, ip: attempt.ip, reason: 'disabled' });
  await audit(ctx, 'sign_in.refused_disabled', {
    subject: user.sub,
    clientId: attempt.clientId,
    ip: attempt.ip,
    detail: { method: attempt.method },
  });
  return ACCOUNT_DISABLED;
}
