/**
 * Second factors: a TOTP authenticator (RFC 6238) and recovery codes.
 *
 * TOTP: SHA-1, 6 digits, 30-second steps — what every authenticator app reads from an otpauth URI
 * (RFC 6238 §4, Appendix A) — with ±1 step of clock drift (§5.2 and §6 recommend at most one step
 * back). Its secret (160 bits, RFC 4226 §4 R6) is encrypted at rest with the key-encryption key, as
 * the signing keys are. A code is good once: the time step of the last code accepted is stored,
 * and only a later step passes (the conditional update is the arbiter, so two concurrent
 * submissions of one code cannot both pass).
 *
 * Recovery codes: ten, 80 random bits each, shown once and stored as SHA-256 digests (80 bits need
 * no slow hash: nothing can be guessed from a digest that a search of 2^80 would not find); each is
 * used once, and a new set voids the old.
 *
 * Entering either is throttled like a password (sign-in-throttle.ts: the same store and rules),
 * per person and per IP, in namespaces of their own: with 5 free failures, delays to 60 s and a
 * 15-minute lock at 20, a person gets at most about 20 guesses per 25 minutes at a one-in-a-
 * million code (three codes valid at a time: 3 × 10^-6 each).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { IssuerContext } from '../context.js';
import { decryptWithKek, encryptWithKek } from '../crypto/key-encryption.js';
import { randomId } from '../crypto/random.js';
import type { SignInThrottle, SsoSession, ThrottleKey, User } from '../store/index.js';
import { audit } from './audit.js';
import { ACCOUNT_THROTTLE, IP_THROTTLE, ipThrottleKey, policyOf } from './sign-in-throttle.js';

/** What authenticator apps show as the account's issuer. */
const TOTP_ISSUER = 'Tessera';
const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** RFC 6238 §6: one step either way. */
const DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;

/** The second factors a person can give now; the factor page offers each. */
export interface SecondFactors {
  totp: boolean;
  recoveryCodes: number;
  /** Their passkeys: any of them is something they have, proved by a WebAuthn assertion (./passkeys.ts). */
  passkeys: number;
}

export async function secondFactorsOf(ctx: IssuerContext, userId: string): Promise<SecondFactors> {
  const totp = await ctx.store.secondFactors.findTotp(userId);
  return {
    totp: totp !== undefined && totp.confirmedAt !== null,
    recoveryCodes: await ctx.store.secondFactors.remainingRecoveryCodes(userId),
    passkeys: (await ctx.store.passkeys.listForUser(userId)).length,
  };
}

/** Whether the person has any second factor to give at the factor page. */
export const canGiveSecondFactor = (factors: SecondFactors): boolean =>
  factors.totp || factors.recoveryCodes > 0 || factors.passkeys > 0;

/** Whether a password alone is not enough for this person: they enrolled a second factor. */
export async function hasEnrolledSecondFactor(ctx: IssuerContext, userId: string): Promise<boolean> {
  const totp = await ctx.store.secondFactors.findTotp(userId);
  return totp !== undefined && totp.confirmedAt !== null;
}

const totpOf = (user: User, secret: Secret) =>
  new TOTP({ issuer: TOTP_ISSUER, label: user.email, secret, ...TOTP_PARAMS });

/** An enrolment in progress: the secret for manual entry and the otpauth URI the QR code holds. */
export interface TotpEnrolment {
  secret: string;
  uri: string;
}

/**
 * Starts (or starts over) an enrolment: a new secret, stored encrypted and inactive until a code
 * from it is entered. Undefined when the person already has an active authenticator.
 */
export async function startTotpEnrolment(ctx: IssuerContext, user: User): Promise<TotpEnrolment | undefined> {
  const secret = new Secret({ size: 20 });
  const encrypted = await encryptWithKek(secret.base32, ctx.config.keyEncryptionKey);
  if (!(await ctx.store.secondFactors.startTotp(user.sub, encrypted, ctx.clock.now()))) return undefined;
  return { secret: secret.base32, uri: totpOf(user, secret).toString() };
}

/** The enrolment in progress, to show again (a reload of its page), or undefined. */
export async function pendingTotpEnrolment(ctx: IssuerContext, user: User): Promise<TotpEnrolment | undefined> {
  const row = await ctx.store.secondFactors.findTotp(user.sub);
  if (!row || row.confirmedAt !== null) return undefined;
  const secret = Secret.fromBase32(await decryptWithKek(row.secretEncrypted, ctx.config.keyEncryptionKey));
  return { secret: secret.base32, uri: totpOf(user, secret).toString() };
}

/** The time step a code is valid at (within the drift window), or undefined. */
async function stepOfCode(ctx: IssuerContext, user: User, secretEncrypted: string, code: string) {
  if (!/^\d{6}$/.test(code)) return undefined;
  const secret = Secret.fromBase32(await decryptWithKek(secretEncrypted, ctx.config.keyEncryptionKey));
  const timestamp = ctx.clock.now();
  const delta = totpOf(user, secret).validate({ token: code, timestamp, window: DRIFT_STEPS });
  if (delta === null) return undefined;
  return TOTP.counter({ period: TOTP_PARAMS.period, timestamp }) + delta;
}

const PERSON = { prefix: 'factor-person:', policy: policyOf(ACCOUNT_THROTTLE) };
const NETWORK = { prefix: 'factor-', policy: policyOf(IP_THROTTLE) };
const throttleKeys = (userId: string, ip: string): ThrottleKey[] => [
  { key: PERSON.prefix + userId, policy: PERSON.policy },
  // 'factor-ip:…': the sign-in throttle's IP key, in a namespace of its own.
  { key: NETWORK.prefix + ipThrottleKey(ip), policy: NETWORK.policy },
];

/** Why a code was refused: wrong (or used), or too many wrong ones lately. */
export type FactorRefusal = 'wrong' | 'throttled';

/**
 * Runs `check` under the throttle: reserved on the person's and the IP's keys before the code is
 * looked at (codes sent in parallel cannot all pass a check made before any of them failed), a
 * failure counted, a success forgiving the person's failures.
 */
async function throttled<T>(
  ctx: IssuerContext,
  userId: string,
  ip: string,
  check: () => Promise<T | undefined>,
): Promise<T | FactorRefusal> {
  const keys = throttleKeys(userId, ip);
  const attempt = randomId();
  const now = ctx.clock.now();
  const reservation = await ctx.store.signInThrottles.reserve(attempt, keys, now, now + 60_000);
  if (reservation.outcome !== 'reserved') return 'throttled';
  let counted = false;
  try {
    const passed = await check();
    if (passed === undefined) {
      const counters = await ctx.store.signInThrottles.countFailure(attempt, keys, ctx.clock.now());
      counted = true;
      await auditBlocks(ctx, counters, userId, ip);
      return 'wrong';
    }
    // As for passwords: the person's failures are forgiven, and on the IP only as many as they had.
    const forgiven = await ctx.store.signInThrottles.countSuccess(attempt, keys[0]!.key);
    counted = true;
    if (forgiven > 0) await ctx.store.signInThrottles.forgive(keys[1]!.key, forgiven, NETWORK.policy);
    return passed;
  } finally {
    if (!counted) await ctx.store.signInThrottles.release(attempt);
  }
}

async function auditBlocks(ctx: IssuerContext, counters: SignInThrottle[], subject: string, ip: string) {
  for (const row of counters) {
    if (row.blockedUntil === null) continue;
    await audit(ctx, 'second_factor.throttled', {
      subject,
      ip,
      detail: { key: row.key.startsWith(PERSON.prefix) ? 'person' : 'ip', failures: row.failures },
    });
  }
}

/** Makes the enrolment in progress active with a correct code from it; the code is then used. */
export async function confirmTotpEnrolment(
  ctx: IssuerContext,
  user: User,
  code: string,
  ip: string,
): Promise<true | FactorRefusal> {
  const result = await throttled(ctx, user.sub, ip, async () => {
    const row = await ctx.store.secondFactors.findTotp(user.sub);
    if (!row || row.confirmedAt !== null) return undefined;
    const step = await stepOfCode(ctx, user, row.secretEncrypted, code.trim());
    if (step === undefined) return undefined;
    return (await ctx.store.secondFactors.confirmTotp(user.sub, step, ctx.clock.now())) || undefined;
  });
  if (result === true) await audit(ctx, 'totp.enrolled', { subject: user.sub, ip });
  else await audit(ctx, 'totp.enrolment_failed', { subject: user.sub, ip, detail: { reason: result } });
  return result;
}

/** Removes the person's authenticator. */
export async function removeTotp(ctx: IssuerContext, user: User, ip: string): Promise<boolean> {
  const removed = await ctx.store.secondFactors.removeTotp(user.sub);
  if (removed) await audit(ctx, 'totp.removed', { subject: user.sub, ip });
  return removed;
}

/** A code the person entered at the factor page: from their authenticator, or a recovery code. */
export type FactorCode = { method: 'totp'; code: string } | { method: 'recovery'; code: string };

/** A factor given at the factor page: a code, or a passkey's answer to the page's challenge (./passkeys.ts). */
export type GivenFactor = FactorCode | { method: 'passkey'; credential: string };

/** What a correct second factor proved (RFC 8176 `otp` for both), and recovery codes left if one was used. */
export interface FactorAccepted {
  amr: ['otp'];
  recoveryCodesLeft?: number;
}

/**
 * Checks a second factor under the throttle. A TOTP code is accepted once: a code of a step already
 * used (a replay, or a second submission racing the first) is refused like a wrong one and
 * audited as a replay.
 */
export async function verifySecondFactor(
  ctx: IssuerContext,
  user: User,
  factor: FactorCode,
  ip: string,
): Promise<FactorAccepted | FactorRefusal> {
  let replayed = false;
  const result = await throttled(ctx, user.sub, ip, async (): Promise<FactorAccepted | undefined> => {
    if (factor.method === 'totp') {
      const row = await ctx.store.secondFactors.findTotp(user.sub);
      if (!row || row.confirmedAt === null) return undefined;
      const step = await stepOfCode(ctx, user, row.secretEncrypted, factor.code.trim());
      if (step === undefined) return undefined;
      if (!(await ctx.store.secondFactors.useTotpStep(user.sub, step))) {
        replayed = true;
        return undefined;
      }
      return { amr: ['otp'] };
    }
    const digest = recoveryCodeDigest(factor.code);
    if (digest === undefined) return undefined;
    if (!(await ctx.store.secondFactors.useRecoveryCode(user.sub, digest, ctx.clock.now()))) return undefined;
    return { amr: ['otp'], recoveryCodesLeft: await ctx.store.secondFactors.remainingRecoveryCodes(user.sub) };
  });
  if (typeof result === 'string') {
    const reason = replayed ? 'replayed' : result;
    await audit(ctx, 'second_factor.failed', { subject: user.sub, ip, detail: { method: factor.method, reason } });
  } else if (factor.method === 'recovery') {
    await audit(ctx, 'recovery_code.used', { subject: user.sub, ip, detail: { remaining: result.recoveryCodesLeft } });
  } else {
    await audit(ctx, 'second_factor.succeeded', { subject: user.sub, ip, detail: { method: 'totp' } });
  }
  return result;
}

/** RFC 4648 base32, lower case (digits 2–7 only: a 0, 1 or 8 typed for o, l or b is read as such). */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new recovery code: 16 base32 characters (80 bits), in four groups for reading. */
function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** The digest a code is stored as, of its normalized form; undefined for what cannot be a code. */
function recoveryCodeDigest(input: string): string | undefined {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/0/g, 'o').replace(/1/g, 'l').replace(/8/g, 'b');
  if (!/^[a-z2-7]{16}$/.test(code)) return undefined;
  return createHash('sha256').update(`tessera recovery code:${code}`).digest('base64url');
}

/** Makes ten new recovery codes, voiding the old ones; returns them (the only time they are seen). */
export async function regenerateRecoveryCodes(ctx: IssuerContext, session: SsoSession, ip: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await ctx.store.secondFactors.replaceRecoveryCodes(
    session.userId,
    codes.map((c) => recoveryCodeDigest(c)!),
    ctx.clock.now(),
  );
  await audit(ctx, 'recovery_codes.generated', { subject: session.userId, ip, detail: { sid: session.id } });
  return codes;
}
