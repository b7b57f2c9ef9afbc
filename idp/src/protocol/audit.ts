/** Writing the audit trail: who did what, from where, when. */
import type { Clock } from '@tessera/shared';
import type { Store } from '../store/index.js';

export type AuditType =
  | 'sign_in.succeeded'
  | 'sign_in.failed'
  /** A failure put an account or an IP in a backoff delay (OWASP ASVS V2.2.1). */
  | 'sign_in.throttled'
  /** A failure put an account or an IP in a temporary lock. */
  | 'sign_in.locked'
  | 'authorization_code.replayed'
  | 'device_code.replayed'
  | 'device.approved'
  | 'device.denied'
  | 'refresh_token.reused'
  | 'session.ended'
  | 'device.ended'
  | 'key.rotated'
  | 'client.created'
  | 'client.deleted'
  /** A client's redirect URIs, resources or MFA requirement changed (`detail.changed`), or its secret. */
  | 'client.updated'
  | 'client.secret_rotated'
  /** An API registered from the admin console (`detail.actor`). */
  | 'resource.created'
  | 'user.created'
  | 'token.revoked'
  | 'token.exchanged'
  | 'passkey.registered'
  | 'passkey.renamed'
  | 'passkey.removed'
  /** A passkey proved as the second factor after a password. */
  | 'passkey.factor_proved'
  /** A passkey ceremony's answer or an account-page change refused; `detail.reason` says why. */
  | 'passkey.refused'
  /** WebAuthn §6.1.1: a signature counter that did not go up — a possibly cloned authenticator. */
  | 'passkey.counter_regressed'
  /** A TOTP authenticator became active (a correct first code), or its first code was refused. */
  | 'totp.enrolled'
  | 'totp.enrolment_failed'
  | 'totp.removed'
  /** A second factor was refused (wrong, replayed, or throttled), or accepted. */
  | 'second_factor.failed'
  | 'second_factor.succeeded'
  /** Wrong second factors put a person or an IP in a backoff delay or a lock. */
  | 'second_factor.throttled'
  /** A recovery code was used (with how many remain), or a new set voided the old. */
  | 'recovery_code.used'
  | 'recovery_codes.generated'
  /** A person with no second factor was asked for one (the app required it). */
  | 'second_factor.unavailable'
  /** Other sessions ended because the person changed how they sign in. */
  | 'sessions.ended_after_factor_change'
  /** Every session and grant of a person ended at once (protocol/account-access.ts); `detail.reason` says why. */
  | 'account.access_ended'
  /** A person changed their password (`detail.proof`: the current password or a fresh sign-in). */
  | 'password.changed'
  /** A wrong current password (or one while those were throttled) refused a change or a deletion. */
  | 'current_password.refused'
  /** A person's account and personal data were deleted; the event keeps the subject id alone. */
  | 'account.deleted'
  /** The admin role granted or taken back (`detail.actor`: the admin's sub, or `cli`). */
  | 'admin.granted'
  | 'admin.revoked'
  /** An account disabled or enabled by an admin or the CLI (`detail.actor`). */
  | 'user.disabled'
  | 'user.enabled'
  /** An administrator mailed the person a new address-verification or password-reset link. */
  | 'user.verification_sent'
  | 'user.password_reset_sent'
  /** Right credentials for a disabled account: refused, `detail.method` says which sign-in. */
  | 'sign_in.refused_disabled'
  /** The admin console refused a form (a missing or wrong form token, another origin). */
  | 'admin.form_refused'
  /** A reset link was asked for (`detail.account`: whether the address is an account's), or throttled. */
  | 'password_reset.requested'
  | 'password_reset.throttled'
  /** A password was set through a reset link; `detail` says how many sessions and tokens ended. */
  | 'password.reset'
  /** An account created at /sign-up (`detail.policy`), or a sign-up with an address that has one. */
  | 'user.signed_up'
  | 'sign_up.address_taken'
  | 'sign_up.throttled'
  /** An invitation to sign up was mailed (`detail.actor`: who sent it). */
  | 'user.invited'
  /** The right password, for an account whose address is not verified yet: refused, a link sent. */
  | 'sign_in.unverified'
  | 'email.verified'
  /** A link to move the account to another address was mailed, or followed (the change made). */
  | 'email.change_requested'
  | 'email.changed'
  /** FedCM: a code issued to a page of a client's registered origin, or a request refused (`detail.reason`). */
  | 'fedcm.assertion_issued'
  | 'fedcm.assertion_refused'
  /** FedCM: a person's connection to a client forgotten, or a disconnect refused (`detail.reason`). */
  | 'fedcm.disconnected'
  | 'fedcm.disconnect_refused';

export interface AuditFields {
  subject?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export async function audit(deps: { store: Store; clock: Clock }, type: AuditType, f: AuditFields = {}): Promise<void> {
  await deps.store.audit.record({
    at: deps.clock.now(),
    type,
    subject: f.subject ?? null,
    clientId: f.clientId ?? null,
    ip: f.ip ?? null,
    detail: f.detail ?? null,
  });
}
