/**
 * The SSO session at the issuer. The cookie holds a 256-bit secret; the store keeps only its
 * SHA-256 digest. A new secret is issued at every sign-in (no fixation); sessions end after an
 * idle period and at an absolute limit.
 */
import type { AuthenticationMethod } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest, fedcmSecret } from '../crypto/digest.js';
import { randomId, randomSecret } from '../crypto/random.js';
import type { SsoSession, User } from '../store/index.js';
import { endSsoSession } from './end-session.js';

export interface Device {
  userAgent: string;
  ip: string;
}

/** The active session a cookie secret names, or undefined (unknown, ended, idle or expired). */
export async function findActiveSession(
  ctx: IssuerContext,
  secret: string | undefined,
): Promise<SsoSession | undefined> {
  if (!secret || secret.length > 128) return undefined;
  const session = await ctx.store.sessions.findBySecretDigest(digest(secret));
  if (!session || !isActive(ctx, session)) return undefined;
  return session;
}

/**
 * The active session a FedCM cookie names (http/cookies.ts), or undefined. Only the FedCM
 * endpoints call this; the digest column is separate from the session cookie's, so neither
 * cookie's value finds a session through the other's lookup.
 */
export async function findActiveFedcmSession(
  ctx: IssuerContext,
  fedcmCookie: string | undefined,
): Promise<SsoSession | undefined> {
  if (!fedcmCookie) return undefined;
  const session = await ctx.store.sessions.findByFedcmDigest(digest(fedcmCookie));
  if (!session || !isActive(ctx, session)) return undefined;
  return session;
}

/** The digests the store keeps for a session secret: the session cookie's and the FedCM cookie's. */
function secretDigests(secret: string): { secretDigest: string; fedcmDigest: string } {
  return { secretDigest: digest(secret), fedcmDigest: digest(fedcmSecret(secret)) };
}

export function isActive(ctx: IssuerContext, s: SsoSession): boolean {
  const now = ctx.clock.now();
  return s.endedAt === null && now < s.expiresAt && now < s.lastSeenAt + ctx.config.sessionIdleTtl * 1000;
}

/**
 * Records that a session was used `now`. The write is skipped while the recorded last use is
 * recent: within a tenth of the idle lifetime, at most a minute. That saves a commit on most SSO
 * visits and refreshes, and moves the idle expiry by at most that much; a coarser step (a fixed
 * minute under a one-minute idle lifetime) would end sessions that are in use.
 */
export async function recordSessionUse(ctx: IssuerContext, session: SsoSession, now: number): Promise<void> {
  const step = Math.min(60_000, (ctx.config.sessionIdleTtl * 1000) / 10);
  if (now - session.lastSeenAt >= step) await ctx.store.sessions.touch(session.id, now);
}

/**
 * Starts a session after the person proved who they are, by `amr` (RFC 8176: ['pwd'] for a
 * password). If this browser's session belongs to the same user it is kept (same `sid`, so apps
 * stay linked) with a new secret, auth_time and methods — a new sign-in states what it proved
 * itself, not what an earlier one did; any other session of this browser is ended.
 */
export async function signInSession(
  ctx: IssuerContext,
  user: User,
  device: Device,
  current: SsoSession | undefined,
  amr: readonly AuthenticationMethod[],
): Promise<{ session: SsoSession; secret: string }> {
  const now = ctx.clock.now();
  const secret = randomSecret();
  const expiresAt = now + ctx.config.sessionAbsoluteTtl * 1000;
  const methods = [...amr];
  if (current && current.userId === user.sub) {
    await ctx.store.sessions.reauthenticate(current.id, {
      ...secretDigests(secret),
      authTime: now,
      amr: methods,
      expiresAt,
    });
    return { session: { ...current, authTime: now, amr: methods, lastSeenAt: now, expiresAt }, secret };
  }
  // Another person's session on this browser ends, and the apps it touched are told.
  if (current) await endSsoSession(ctx, current);
  const session = await ctx.store.sessions.create({
    id: randomId(),
    ...secretDigests(secret),
    userId: user.sub,
    authTime: now,
    amr: methods,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    userAgent: device.userAgent.slice(0, 512),
    ip: device.ip.slice(0, 64),
  });
  return { session, secret };
}

/**
 * Adds a factor the person just proved (a one-time code, a recovery code, a passkey) to their
 * session: the same `sid`, a new cookie secret (the session is worth more now, so a secret seen
 * before must not carry it: no fixation), the methods so far plus these and `mfa` (RFC 8176 §2:
 * more than one factor), and auth_time now (OIDC Core §2: the time of the latest authentication).
 * The absolute expiry stays: a second factor does not make the session live longer.
 */
export async function addFactorToSession(
  ctx: IssuerContext,
  session: SsoSession,
  factor: readonly AuthenticationMethod[],
): Promise<{ session: SsoSession; secret: string }> {
  const now = ctx.clock.now();
  const secret = randomSecret();
  const amr = [...new Set<string>([...session.amr, ...factor, 'mfa'])];
  await ctx.store.sessions.reauthenticate(session.id, {
    ...secretDigests(secret),
    authTime: now,
    amr,
    expiresAt: session.expiresAt,
  });
  return { session: { ...session, authTime: now, amr, lastSeenAt: now }, secret };
}

/**
 * Whether the person signed in recently enough to change how they sign in (a new factor, a
 * removed one, new recovery codes): someone who finds a session left open must not be able to
 * take over the account (OWASP ASVS V3.7.1, NIST SP 800-63B §6.1.2.1 re-authentication).
 */
export function isFreshSignIn(ctx: IssuerContext, session: SsoSession): boolean {
  return ctx.clock.now() - session.authTime <= ctx.config.freshSignInWindow * 1000;
}
