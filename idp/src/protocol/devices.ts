/**
 * A person's devices: their SSO sessions at the issuer, as the account page shows them, and
 * ending one or all of them. Ending goes through endSsoSession, so a device signed out here is
 * signed out exactly as by RP-Initiated Logout: refresh tokens of its non-offline grants are
 * revoked and every app the session touched gets a back-channel logout token.
 */
import type { IssuerContext } from '../context.js';
import type { SsoSession } from '../store/index.js';
import { audit } from './audit.js';
import { describeDevice } from './device-description.js';
import { endSsoSession } from './end-session.js';
import { isActive } from './sso-session.js';

export interface DeviceListing {
  sid: string;
  description: string;
  ip: string;
  createdAt: number;
  lastSeenAt: number;
  /** How the person signed in there (RFC 8176 values). */
  amr: string[];
  /** The session of the browser asking. */
  current: boolean;
}

/** The sid is not an unended session of this person: the caller answers 404 and changes nothing. */
export class DeviceNotFound extends Error {
  readonly code = 'ERR_DEVICE_NOT_FOUND';
  constructor() {
    super('no such device for this person');
    this.name = 'DeviceNotFound';
  }
}

/** The person's signed-in devices: this one first, then the most recently active. */
export async function listDevices(ctx: IssuerContext, current: SsoSession): Promise<DeviceListing[]> {
  const sessions = (await ctx.store.sessions.listActiveForUser(current.userId)).filter((s) => isActive(ctx, s));
  return sessions
    .map((s) => ({
      sid: s.id,
      description: describeDevice(s.userAgent),
      ip: s.ip,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      amr: s.amr,
      current: s.id === current.id,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
}

async function endOne(ctx: IssuerContext, session: SsoSession, by: SsoSession, ip: string): Promise<void> {
  // Audited only by the caller that actually ended it: two concurrent clicks record one event.
  if (await endSsoSession(ctx, session)) {
    await audit(ctx, 'device.ended', { subject: session.userId, ip, detail: { sid: session.id, by_sid: by.id } });
  }
}

/**
 * Ends one of the person's own sessions, named by its sid. A session idle past its timeout is
 * still theirs to end (its apps may keep sessions of their own and should hear of it); an
 * ended one, or anyone else's, is not found.
 */
export async function endDevice(
  ctx: IssuerContext,
  by: SsoSession,
  sid: string,
  ip: string,
): Promise<{ endedCurrent: boolean }> {
  const session = await ctx.store.sessions.findById(sid);
  if (!session || session.userId !== by.userId || session.endedAt !== null) throw new DeviceNotFound();
  await endOne(ctx, session, by, ip);
  return { endedCurrent: session.id === by.id };
}

/** Ends every unended session of the person, the asking one last; returns how many there were. */
export async function endAllDevices(ctx: IssuerContext, by: SsoSession, ip: string): Promise<number> {
  const sessions = await ctx.store.sessions.listActiveForUser(by.userId);
  // The asking session goes last, so a failure part-way leaves the person able to retry.
  const ordered = [...sessions.filter((s) => s.id !== by.id), ...sessions.filter((s) => s.id === by.id)];
  for (const s of ordered) await endOne(ctx, s, by, ip);
  return ordered.length;
}

/**
 * Ends every other session of the person, on their asking when they changed how they sign in: a
 * session opened with a factor they no longer trust should not outlive it. Returns how many ended.
 */
export async function endOtherDevices(ctx: IssuerContext, by: SsoSession, ip: string): Promise<number> {
  const others = (await ctx.store.sessions.listActiveForUser(by.userId)).filter((s) => s.id !== by.id);
  for (const s of others) await endOne(ctx, s, by, ip);
  await audit(ctx, 'sessions.ended_after_factor_change', { subject: by.userId, ip, detail: { ended: others.length } });
  return others.length;
}
