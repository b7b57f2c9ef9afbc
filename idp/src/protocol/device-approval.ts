/**
 * A person deciding on a device at the device page (RFC 8628 §3.3): entering its user code,
 * seeing which app asks, from which device, for what, and approving or denying it once.
 *
 * Entering codes is throttled like passwords (sign-in-throttle.ts, the same store and rules), per
 * person and per IP: a code that names no pending request counts as a failure. With 5 free
 * failures, then delays from 1 s doubling to 60 s, and a 15-minute lock at 20 (15 for an IP), one
 * person or one IP gets at most about 20 guesses in a code's 10-minute life. A guess hits one of N
 * live codes with probability N / 20^8 = N / 2.56 × 10^10: with 10 000 live codes, 20 guesses
 * succeed with probability 8 × 10^-6 — and what a lucky guess wins is a stranger's device signed
 * in to the guesser's own account, or denied.
 */
import type { IssuerContext } from '../context.js';
import { randomId } from '../crypto/random.js';
import type { Client, DeviceAuthorization, SsoSession, ThrottleKey } from '../store/index.js';
import { audit } from './audit.js';
import { ACCOUNT_THROTTLE, IP_THROTTLE, ipThrottleKey, policyOf } from './sign-in-throttle.js';
import { normalizeUserCode } from './user-code.js';

const PERSON = { prefix: 'device-person:', policy: policyOf(ACCOUNT_THROTTLE) };
const NETWORK = { prefix: 'device-', policy: policyOf(IP_THROTTLE) };
const throttleKeys = (session: SsoSession, ip: string): ThrottleKey[] => [
  { key: PERSON.prefix + session.userId, policy: PERSON.policy },
  // 'device-ip:…': the sign-in throttle's IP key, in a namespace of its own.
  { key: NETWORK.prefix + ipThrottleKey(ip), policy: NETWORK.policy },
];

const SWEEP_EVERY = 10 * 60 * 1000;
const nextSweep = new WeakMap<object, number>();

/** What entering a code found. */
export type CodeLookup =
  | { kind: 'found'; authorization: DeviceAuthorization; client: Client }
  /** No pending, unexpired request has this code (counted against the throttle). */
  | { kind: 'unknown' }
  /** Too many wrong codes lately: try again later. */
  | { kind: 'throttled' }
  /** Not even the shape of a code: not looked up, not counted. */
  | { kind: 'malformed' };

/** Looks up a code the signed-in person entered (or arrived with), under the throttle. */
export async function lookUpUserCode(
  ctx: IssuerContext,
  session: SsoSession,
  input: string,
  ip: string,
): Promise<CodeLookup> {
  const userCode = normalizeUserCode(input);
  if (userCode === undefined) return { kind: 'malformed' };
  const now = ctx.clock.now();
  await sweep(ctx, now);
  const keys = throttleKeys(session, ip);
  const attempt = randomId();
  // Reserved before the lookup, as a password attempt is: codes sent in parallel cannot all pass
  // a check made before any of them failed. A person types one code at a time; busy is refused.
  const reservation = await ctx.store.signInThrottles.reserve(attempt, keys, now, now + 60_000);
  if (reservation.outcome !== 'reserved') return { kind: 'throttled' };
  let counted = false;
  try {
    const found = await ctx.store.deviceAuthorizations.findByUserCode(userCode, now);
    const client = found?.status === 'pending' ? await ctx.store.clients.findById(found.clientId) : undefined;
    if (!found || !client) {
      await ctx.store.signInThrottles.countFailure(attempt, keys, ctx.clock.now());
      counted = true;
      return { kind: 'unknown' };
    }
    return { kind: 'found', authorization: found, client };
  } finally {
    if (!counted) await ctx.store.signInThrottles.release(attempt);
  }
}

/**
 * Records the person's decision; false when the request is no longer pending (decided already,
 * in this tab or another, or expired). A code is approved or denied once.
 */
export async function decideOnDevice(
  ctx: IssuerContext,
  session: SsoSession,
  authorization: DeviceAuthorization,
  approve: boolean,
  ip: string,
): Promise<boolean> {
  const now = ctx.clock.now();
  const decided = await ctx.store.deviceAuthorizations.decide(authorization.userCode, now, {
    status: approve ? 'approved' : 'denied',
    userId: session.userId,
    sessionId: session.id,
    authTime: session.authTime,
    amr: session.amr,
  });
  if (decided) {
    await audit(ctx, approve ? 'device.approved' : 'device.denied', {
      subject: session.userId,
      clientId: authorization.clientId,
      ip,
      detail: { sid: session.id },
    });
  }
  return decided;
}

/** Deletes forgotten counters of code entry now and then (the sign-in throttle sweeps its own). */
async function sweep(ctx: IssuerContext, now: number): Promise<void> {
  if ((nextSweep.get(ctx.store) ?? 0) > now) return;
  nextSweep.set(ctx.store, now + SWEEP_EVERY);
  await ctx.store.signInThrottles.deleteForgotten(PERSON.prefix, PERSON.policy, now);
  await ctx.store.signInThrottles.deleteForgotten(`${NETWORK.prefix}ip:`, NETWORK.policy, now);
}
