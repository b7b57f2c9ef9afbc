/**
 * Signing in with a passkey instead of a password (WebAuthn §7.2): a discoverable credential
 * with user verification is something the person has (the authenticator) and something they are
 * or know (its verification), so it starts the session on its own, as two factors (amr: hwk or
 * swk, user, mfa); the interaction then goes on as after a password (./sign-in.ts).
 */
import type { IssuerContext } from '../context.js';
import type { Interaction } from '../store/index.js';
import { refuseDisabledSignIn } from './account-status.js';
import { audit } from './audit.js';
import { PasskeyRefused, passkeyMethods, verifyPasskeyAssertion } from './passkeys.js';
import type { SignInResult } from './sign-in.js';
import { findActiveSession, signInSession, type Device } from './sso-session.js';

/** The one message every refused passkey sign-in shows; the reason goes to the audit trail. */
export const PASSKEY_SIGN_IN_REFUSED = 'That passkey could not sign you in. Try again, or sign in with your password.';

export async function signInWithPasskey(
  ctx: IssuerContext,
  attempt: {
    interaction: Interaction;
    /** The browser's PublicKeyCredential, as JSON. */
    credential: string;
    device: Device;
    sessionSecret: string | undefined;
  },
): Promise<SignInResult> {
  const { interaction, device } = attempt;
  const clientId = interaction.request?.clientId ?? null;
  let assertion: Awaited<ReturnType<typeof verifyPasskeyAssertion>>;
  try {
    assertion = await verifyPasskeyAssertion(ctx, attempt.credential, interaction.id);
  } catch (e) {
    if (!(e instanceof PasskeyRefused)) throw e;
    ctx.log.info('sign_in.failed', { ip: device.ip, method: 'passkey', reason: e.reason });
    ctx.metrics.signIns.inc({ result: 'bad_credentials' });
    await audit(ctx, 'sign_in.failed', {
      clientId,
      ip: device.ip,
      detail: { method: 'passkey', reason: e.reason, why: e.detail.slice(0, 200) },
    });
    return { ok: false, message: PASSKEY_SIGN_IN_REFUSED };
  }
  const { user, passkey } = assertion;
  const disabled = await refuseDisabledSignIn(ctx, user, { clientId, ip: device.ip, method: 'passkey' });
  if (disabled) return { ok: false, message: disabled };
  const current = await findActiveSession(ctx, attempt.sessionSecret);
  const { session, secret } = await signInSession(ctx, user, device, current, passkeyMethods(passkey));
  ctx.log.info('sign_in.succeeded', { sub: user.sub, sid: session.id, method: 'passkey' });
  ctx.metrics.signIns.inc({ result: 'success' });
  await audit(ctx, 'sign_in.succeeded', {
    subject: user.sub,
    clientId,
    ip: device.ip,
    detail: { sid: session.id, method: 'passkey', credential: passkey.id },
  });
  return { ok: true, session, secret };
}
