import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims } from '@tessera/shared';
import { withClaims } from '@tessera/shared/testing';
import { createMemoryRevokedSessions } from '../src/revoked-sessions.js';

function testClock() {
  let now = Date.UTC(2030, 0, 1);
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

/** A token's claims with `over` applied: `undefined` leaves a claim out. */
const claims = (
  over: { [K in keyof AccessTokenClaims]?: AccessTokenClaims[K] | undefined },
  clock: { now(): number },
): AccessTokenClaims =>
  withClaims<AccessTokenClaims>(
    {
      iss: 'http://idp.localhost:4000',
      sub: 'alice',
      aud: 'http://app-b.localhost:4002',
      client_id: 'app-b',
      scope: 'openid',
      jti: 'j',
      sid: 'sid-1',
      iat: Math.floor(clock.now() / 1000) - 10,
      exp: Math.floor(clock.now() / 1000) + 290,
    },
    over,
  );

describe('createMemoryRevokedSessions', () => {
  it('refuses tokens of a revoked sid, and only of that sid', async () => {
    const clock = testClock();
    const revoked = createMemoryRevokedSessions({ clock, windowSec: 900 });
    await revoked.revokeSession('sid-1');
    expect(await revoked.isRevoked(claims({}, clock))).toBe(true);
    expect(await revoked.isRevoked(claims({ sid: 'sid-2' }, clock))).toBe(false);
  });

  it('forgets a revoked sid once the window has passed (its tokens have expired by then)', async () => {
    const clock = testClock();
    const revoked = createMemoryRevokedSessions({ clock, windowSec: 900 });
    await revoked.revokeSession('sid-1');
    clock.advance(901);
    expect(await revoked.isRevoked(claims({}, clock))).toBe(false);
  });

  it('refuses a revoked subject’s tokens issued before the revocation, not after', async () => {
    const clock = testClock();
    const revoked = createMemoryRevokedSessions({ clock, windowSec: 900 });
    const old = claims({ sid: undefined }, clock);
    await revoked.revokeSubject('alice');
    clock.advance(5);
    expect(await revoked.isRevoked(old)).toBe(true);
    expect(await revoked.isRevoked(claims({ sid: 'new', iat: Math.floor(clock.now() / 1000) }, clock))).toBe(false);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const clock = testClock();
    const revoked = createMemoryRevokedSessions({ clock, windowSec: 900, maxEntries: 2 });
    for (const sid of ['a', 'b', 'c']) await revoked.revokeSession(sid);
    expect(await revoked.isRevoked(claims({ sid: 'a' }, clock))).toBe(false);
    expect(await revoked.isRevoked(claims({ sid: 'c' }, clock))).toBe(true);
  });
});
