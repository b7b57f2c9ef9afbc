/**
 * Brute-force protection for password sign-in (OWASP ASVS V2.2.1; OWASP Authentication Cheat
 * Sheet, "Account lockout"). Failures are counted per account and per IP. Past a threshold a key
 * is blocked for an exponentially growing delay, past a higher count it is locked for a while;
 * every block ends on its own, and a key left quiet is forgotten.
 *
 * Why the numbers fit together — one IP alone can never lock an account:
 * - The IP lock comes first (IP_THROTTLE.lockAfter < ACCOUNT_THROTTLE.lockAfter), so one IP
 *   makes at most 15 counted attempts on an account before the IP itself is locked.
 * - An account forgets its failures after a quiet period no longer than the IP lock
 *   (ACCOUNT_THROTTLE.forgetAfter <= IP_THROTTLE.lockFor): by the time that IP may try again,
 *   the account's count from it has lapsed. A success takes off the IP only the failures the
 *   signed-in account had, so an attacker signing in to an account of their own in between
 *   guesses does not wipe the guesses on someone else's.
 * - Attempts refused while blocked are not counted, so hammering cannot make a block longer.
 * What one IP can still do to a victim: its 15 attempts put the account in backoff for about
 * 6 minutes (delays 1 s … 60 s), after which that IP gets one attempt per 15 minutes until it
 * has been quiet for an hour.
 *
 * The trade-off for distributed attacks: many IPs can, between them, reach the account lock
 * (20 failures), and keep the account locked 15 minutes at a time for as long as they keep
 * going — a lock strong enough to stop a botnet guessing is strong enough to deny the owner.
 * We keep locks short and temporary rather than permanent (ASVS V2.2.1 asks for rate limiting,
 * not lockout), and every lock is in the audit trail for an operator to act on. What it buys: an
 * account gets at most about 20 guesses per 25 minutes from any number of IPs.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../config/config.js';
import type { IssuerContext } from '../context.js';
import type { Reservation, SignInThrottle, Store, ThrottleKey, ThrottlePolicy, User } from '../store/index.js';
import { normalizeEmail } from '../store/index.js';
import { randomId } from '../crypto/random.js';
import { audit } from './audit.js';
import { BadCredentialsError, MAX_PASSWORD_LENGTH, checkCredentials } from './credentials.js';

/** How one kind of key is throttled. Times are milliseconds. */
export interface ThrottleRule {
  /** Failures allowed before any delay (typos). */
  threshold: number;
  /** The delay at `threshold` failures; it doubles with each further failure … */
  baseDelay: number;
  /** … up to this. */
  maxDelay: number;
  /** From this many failures the key is locked … */
  lockAfter: number;
  /** … for this long after the last one. */
  lockFor: number;
  /** A key with no failure for this long (and no block left) starts over. */
  forgetAfter: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Per account: keyed by a digest of the normalized email, so unknown emails are throttled alike. */
export const ACCOUNT_THROTTLE: ThrottleRule = {
  threshold: 5,
  baseDelay: SECOND,
  maxDelay: MINUTE,
  lockAfter: 20,
  lockFor: 15 * MINUTE,
  forgetAfter: 15 * MINUTE,
};

/** Per IP (per /64 for IPv6): more room for shared addresses, but locked before any account can be. */
export const IP_THROTTLE: ThrottleRule = {
  threshold: 10,
  baseDelay: SECOND,
  maxDelay: MINUTE,
  lockAfter: 15,
  lockFor: 15 * MINUTE,
  forgetAfter: 60 * MINUTE,
};

/** When a key with `failures` failures, the last at `at`, may be tried again; null when it is not blocked. */
export function blockedUntil(rule: ThrottleRule, failures: number, at: number): number | null {
  if (failures >= rule.lockAfter) return at + rule.lockFor;
  if (failures < rule.threshold) return null;
  return at + Math.min(rule.baseDelay * 2 ** (failures - rule.threshold), rule.maxDelay);
}

export const policyOf = (rule: ThrottleRule): ThrottlePolicy => ({
  forgetAfter: rule.forgetAfter,
  blockedUntil: (failures, at) => blockedUntil(rule, failures, at),
});

/** The two kinds of throttle key: each one's key prefix and rule. */
const KEY_KINDS = {
  account: { prefix: 'account:', rule: ACCOUNT_THROTTLE, policy: policyOf(ACCOUNT_THROTTLE) },
  ip: { prefix: 'ip:', rule: IP_THROTTLE, policy: policyOf(IP_THROTTLE) },
} as const;
type KeyKind = keyof typeof KEY_KINDS;

const kindOf = (row: SignInThrottle): KeyKind => (row.key.startsWith(KEY_KINDS.ip.prefix) ? 'ip' : 'account');
const isLock = (row: SignInThrottle): boolean => row.failures >= KEY_KINDS[kindOf(row)].rule.lockAfter;

const digestKeys = new WeakMap<Config, Buffer>();

/**
 * The account's throttle key: an HMAC of the normalized email, so the table never holds an
 * email, and a plain digest cannot be reversed by hashing a list of likely addresses. Its key is
 * derived from the key-encryption key (HKDF, its own label), made once per configuration.
 */
export function accountThrottleKey(config: Config, email: string): string {
  let key = digestKeys.get(config);
  if (!key) {
    key = Buffer.from(
      hkdfSync('sha256', config.keyEncryptionKey, new Uint8Array(0), 'tessera sign-in throttle account key', 32),
    );
    digestKeys.set(config, key);
  }
  return KEY_KINDS.account.prefix + createHmac('sha256', key).update(normalizeEmail(email)).digest('base64url');
}

/**
 * The IP's throttle key. An IPv6 end site is given at least a /64 (RFC 6177), so one attacker
 * holds 2^64 addresses: the key is the /64. An IPv4-mapped address counts as its IPv4 address.
 */
export function ipThrottleKey(ip: string): string {
  const mapped = /^::ffff:/i.test(ip) && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(mapped)) return KEY_KINDS.ip.prefix + mapped;
  const bare = mapped.split('%')[0]!;
  if (isIPv6(bare)) return `${KEY_KINDS.ip.prefix + ipv6Network64(bare)}::/64`;
  return KEY_KINDS.ip.prefix + mapped.slice(0, 64);
}

function ipv6Network64(address: string): string {
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const before = groups(head);
  // A trailing dotted IPv4 part fills two groups; only the first four groups matter here.
  const after = groups(tail).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const all =
    tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':');
}

const SWEEP_EVERY = 10 * MINUTE;
const nextSweep = new WeakMap<Store, number>();

/** Deletes forgotten counters now and then, so keys that are never tried again do not pile up. */
async function sweep(store: Store, now: number): Promise<void> {
  if ((nextSweep.get(store) ?? 0) > now) return;
  nextSweep.set(store, now + SWEEP_EVERY);
  for (const kind of Object.values(KEY_KINDS))
    await store.signInThrottles.deleteForgotten(kind.prefix, kind.policy, now);
  await store.signInThrottles.deleteLapsedReservations(now);
}

/**
 * How long an attempt may wait for its turn while others are in flight on its keys. Each of those
 * costs one argon2id verification, so a turn normally comes within a few of them; past this, the
 * issuer is overloaded and the attempt is refused like a throttled one.
 */
export const MAX_WAIT_FOR_TURN = 10 * SECOND;
/** A waiting attempt looks again this often for places freed by another issuer on the database. */
const POLL_EVERY = 50;
/** How long an attempt's places last if its process dies before giving them up. */
const RESERVATION_LASTS = MINUTE;

/** Wakes the attempts waiting on this store whenever one in flight gives up its places. */
const waiting = new WeakMap<Store, Set<() => void>>();

function turnMayHaveCome(store: Store): void {
  const wake = waiting.get(store);
  if (wake) for (const w of [...wake]) w();
}

function nextTurn(store: Store): Promise<void> {
  const set = waiting.get(store) ?? new Set<() => void>();
  waiting.set(store, set);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      set.delete(done);
      resolve();
    };
    const timer = setTimeout(done, POLL_EVERY);
    set.add(done);
  });
}

/** Takes places for the attempt on its keys, waiting (a bounded while) for attempts in flight to end. */
async function reserveInTurn(ctx: IssuerContext, attempt: string, keys: ThrottleKey[]): Promise<Reservation> {
  const deadline = ctx.clock.now() + MAX_WAIT_FOR_TURN;
  // Bounded by the clock and by a count of turns: a clock that does not move (a test's, or one
  // stepped back) must not keep an attempt waiting forever.
  for (let turns = MAX_WAIT_FOR_TURN / POLL_EVERY; ; turns--) {
    const now = ctx.clock.now();
    const reservation = await ctx.store.signInThrottles.reserve(attempt, keys, now, now + RESERVATION_LASTS);
    if (reservation.outcome !== 'busy' || now >= deadline || turns <= 0) return reservation;
    await nextTurn(ctx.store);
  }
}

/**
 * Checks an email and password under the throttle. Every refusal — wrong password, unknown
 * email, throttled, locked — is the same BadCredentialsError and costs one argon2id verification.
 */
export async function attemptSignIn(ctx: IssuerContext, email: string, password: string, ip: string): Promise<User> {
  await sweep(ctx.store, ctx.clock.now());
  const account = { key: accountThrottleKey(ctx.config, email), policy: KEY_KINDS.account.policy };
  const network = { key: ipThrottleKey(ip), policy: KEY_KINDS.ip.policy };

  // The attempt takes a place on both keys before the password is checked, in the same
  // transaction that checks for a block, and only as many attempts are in flight as could fail
  // before the next block: N guesses sent in parallel cannot all pass a check made before any of
  // them failed. The others wait for their turn rather than being refused, so a correct password
  // is never refused for attempts merely in flight.
  const attempt = randomId();
  const reservation = await reserveInTurn(ctx, attempt, [account, network]);
  if (reservation.outcome !== 'reserved') {
    // The same work as a wrong password, so the timing does not tell a block from a bad guess.
    // The password is not checked at all: a correct password is refused like any other, or the
    // block would be an oracle that answers differently exactly when the guess is right.
    await ctx.passwords.verifyDummy(password.slice(0, MAX_PASSWORD_LENGTH));
    const user = email.length <= 320 ? await ctx.store.users.findByEmail(email) : undefined;
    const locked = reservation.outcome === 'blocked' && reservation.blocked.some(isLock);
    throw new BadCredentialsError(locked ? 'locked' : 'throttled', user?.sub ?? null);
  }

  let placesGiven = false;
  try {
    let user: User;
    try {
      user = await checkCredentials(ctx, email, password);
    } catch (e) {
      if (e instanceof BadCredentialsError) {
        const counters = await ctx.store.signInThrottles.countFailure(attempt, [account, network], ctx.clock.now());
        placesGiven = true; // countFailure freed them in the transaction that counted the failure
        await auditBlocks(ctx, counters, e.subject, ip);
      }
      throw e;
    }
    // Reset for the account, in the transaction that frees the places; for the IP, only the
    // failures this account had, so a typo-prone person behind a shared address is forgiven but a
    // guesser signing in to their own account is not.
    const forgiven = await ctx.store.signInThrottles.countSuccess(attempt, account.key);
    placesGiven = true;
    if (forgiven > 0) await ctx.store.signInThrottles.forgive(network.key, forgiven, network.policy);
    return user;
  } finally {
    // On an unexpected error the places are freed here.
    if (!placesGiven) await ctx.store.signInThrottles.release(attempt);
    turnMayHaveCome(ctx.store);
  }
}

/** Records each block this failed attempt set: a backoff delay, or a lock. */
async function auditBlocks(
  ctx: IssuerContext,
  counters: SignInThrottle[],
  subject: string | null,
  ip: string,
): Promise<void> {
  for (const row of counters) {
    if (row.blockedUntil === null) continue;
    await audit(ctx, isLock(row) ? 'sign_in.locked' : 'sign_in.throttled', {
      subject,
      ip,
      detail: { scope: kindOf(row), failures: row.failures, blocked_until: row.blockedUntil },
    });
  }
}
