import type { IssuerContext } from '../../src/context.js';
import { BadCredentialsError, type SignInRefusal } from '../../src/protocol/credentials.js';
import { attemptSignIn } from '../../src/protocol/sign-in-throttle.js';

/** Why the issuer refused one sign-in attempt, or 'signed_in': throttle tests count these. */
export async function signInOutcome(
  context: IssuerContext,
  email: string,
  password: string,
  ip: string,
): Promise<SignInRefusal | 'signed_in'> {
  try {
    await attemptSignIn(context, email, password, ip);
    return 'signed_in';
  } catch (e) {
    if (e instanceof BadCredentialsError) return e.reason;
    throw e;
  }
}
