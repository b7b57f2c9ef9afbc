/**
 * The sign-in throttle's rules and keys, and `attemptSignIn` driven directly with explicit IPs
 * (OWASP ASVS V2.2.1): parallel guesses, the work a refusal does, what a success forgives, and
 * counters that are forgotten after a quiet period. The HTTP side is in throttle-sign-in.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import type { IssuerContext } from '../src/context.js';
import type { PasswordHasher, PasswordParams } from '../src/crypto/passwords.js';
import { registerUser } from '../src/protocol/registration.js';
import {
  ACCOUNT_THROTTLE,
  IP_THROTTLE,
  accountThrottleKey,
  blockedUntil,
  ipThrottleKey,
} from '../src/protocol/sign-in-throttle.js';
import type { SignInThrottle } from '../src/store/index.js';
import { PASSWORD, countRows, sql, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInOutcome } from './support/sign-in-outcome.js';

const FAST: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const MINUTE = 60;

describe('the throttle rules', () => {
  const delays = (rule: typeof ACCOUNT_THROTTLE, upTo: number) =>
    Array.from({ length: upTo }, (_, i) => {
      const until = blockedUntil(rule, i + 1, 0);
      return until === null ? 0 : until / 1000;
    });

  it('give an account four free failures, then 1 s doubling to a 60 s cap, and a 15-minute lock from the 20th', () => {
    expect(delays(ACCOUNT_THROTTLE, 21)).toEqual([
      0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60, 60, 900, 900,
    ]);
  });

  it('give an IP nine free failures, then 1 s doubling, and a 15-minute lock from the 15th', () => {
    expect(delays(IP_THROTTLE, 16)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 900, 900]);
  });

  it('lock an IP before it alone can lock an account, and forget its guesses on the account while it is locked', () => {
    expect(IP_THROTTLE.lockAfter).toBeLessThan(ACCOUNT_THROTTLE.lockAfter);
    expect(ACCOUNT_THROTTLE.forgetAfter).toBeLessThanOrEqual(IP_THROTTLE.lockFor);
    // An IP must outlast its own lock, or each lock would hand it a fresh allowance.
    expect(IP_THROTTLE.forgetAfter).toBeGreaterThan(IP_THROTTLE.lockFor);
  });
});

describe('the throttle keys', () => {
  it('key an account by a keyed digest of its normalized email, never the email itself', () => {
    const config = loadConfig({});
    const key = accountThrottleKey(config, 'alice@example.com');
    expect(key).toMatch(/^account:[A-Za-z0-9_-]{43}$/);
    expect(accountThrottleKey(config, '  Alice@Example.COM ')).toBe(key);
    expect(accountThrottleKey(config, 'alice@example.org')).not.toBe(key);
    expect(
      accountThrottleKey({ ...config, keyEncryptionKey: new Uint8Array(32).fill(7) }, 'alice@example.com'),
    ).not.toBe(key);
  });

  it.each([
    ['an IPv4 address as itself', '203.0.113.5', 'ip:203.0.113.5'],
    ['an IPv4-mapped IPv6 address as its IPv4 address', '::ffff:203.0.113.5', 'ip:203.0.113.5'],
    ['an IPv6 address by its /64', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', 'ip:2001:db8:1:2::/64'],
    ['an IPv6 address written short, in capitals, with leading zeros', '2001:DB8:0001:0002::1', 'ip:2001:db8:1:2::/64'],
    ['an IPv6 address whose /64 is compressed', '2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['an IPv6 address with a zone', 'fe80::1%eth0', 'ip:fe80:0:0:0::/64'],
    ['an unknown peer as one shared key', 'unknown', 'ip:unknown'],
  ])('key %s', (_, ip, key) => {
    expect(ipThrottleKey(ip)).toBe(key);
  });

  it('key two IPv6 addresses in other /64s apart', () => {
    expect(ipThrottleKey('2001:db8:1:2::1')).not.toBe(ipThrottleKey('2001:db8:1:3::1'));
  });
});

describe('attemptSignIn', () => {
  let idp: RunningIssuer;
  let ctx: IssuerContext;

  beforeAll(async () => {
    idp = await startIssuer({ issuer: { passwordParams: FAST } });
    ctx = idp.issuer.ctx;
  });
  afterAll(() => idp.cleanup());

  const register = (email: string) => registerUser(ctx, { email, displayName: email, password: PASSWORD });

  /** Why an attempt was refused, or 'signed_in'. */
  const outcome = (email: string, password: string, ip: string, context: IssuerContext = ctx) =>
    signInOutcome(context, email, password, ip);

  // Aliases quoted: PostgreSQL folds unquoted names to lower case.
  const counter = async (key: string) =>
    (
      await sql(
        idp,
        'select key, failures, first_failure_at as "firstFailureAt", last_failure_at as "lastFailureAt", ' +
          'blocked_until as "blockedUntil" from sign_in_throttles where key = ?',
        key,
      )
    )[0] as SignInThrottle | undefined;

  const tally = (outcomes: string[]) =>
    outcomes.reduce<Record<string, number>>((t, o) => {
      t[o] = (t[o] ?? 0) + 1;
      return t;
    }, {});

  it('admits parallel guesses on one account only as far as all could fail, so only five are checked', async () => {
    await register('kim@example.com');
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome('kim@example.com', 'wrong password', `10.1.0.${i}`)),
    );
    expect(tally(outcomes)).toEqual({ bad_credentials: 5, throttled: 25 });
    expect((await counter(accountThrottleKey(ctx.config, 'kim@example.com')))?.failures).toBe(5);
  });

  it('admits parallel guesses from one IP only as far as they could all fail, so only ten are checked', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome(`nobody-${i}@example.com`, 'wrong password', '10.2.0.1')),
    );
    expect(tally(outcomes)).toEqual({ bad_credentials: 10, throttled: 20 });
  });

  it('runs the dummy argon2id verification, and never the real one, for a blocked attempt', async () => {
    await register('leo@example.com');
    const calls = { verify: 0, verifyDummy: 0 };
    const real = ctx.passwords;
    // The real hasher, counted: the refusal must cost one verification like a wrong password.
    const counted: PasswordHasher = {
      hash: (p) => real.hash(p),
      verify: (h, p) => {
        calls.verify++;
        return real.verify(h, p);
      },
      verifyDummy: (p) => {
        calls.verifyDummy++;
        return real.verifyDummy(p);
      },
    };
    const counting = { ...ctx, passwords: counted };
    for (let i = 0; i < 5; i++)
      expect(await outcome('leo@example.com', 'wrong password', `10.3.0.${i}`, counting)).toBe('bad_credentials');
    expect(calls).toEqual({ verify: 5, verifyDummy: 0 });
    expect(await outcome('leo@example.com', PASSWORD, '10.3.1.0', counting)).toBe('throttled');
    expect(calls).toEqual({ verify: 5, verifyDummy: 1 });
  });

  it('reports a lock as locked, and refuses the right password during it', async () => {
    await register('mia@example.com');
    for (let i = 0; i < 20; i++) {
      await outcome('mia@example.com', 'wrong password', `10.4.0.${i}`);
      idp.clock.advance(MINUTE);
    }
    expect(await outcome('mia@example.com', PASSWORD, '10.4.1.0')).toBe('locked');
  });

  it('takes off the IP only the failures of the account that signed in', async () => {
    await register('oscar@example.com');
    const ip = '10.5.0.1';
    for (let i = 0; i < 8; i++) await outcome(`stranger-${i}@example.com`, 'wrong password', ip);
    expect(await outcome('oscar@example.com', 'wrong password', ip)).toBe('bad_credentials');
    expect(await outcome('oscar@example.com', PASSWORD, ip)).toBe('signed_in');
    expect((await counter(ipThrottleKey(ip)))?.failures).toBe(8);
    expect(await counter(accountThrottleKey(ctx.config, 'oscar@example.com'))).toBeUndefined();
    // Signing in to one's own account did not wipe the guesses on others: two more and the IP is blocked.
    await outcome('stranger-8@example.com', 'wrong password', ip);
    await outcome('stranger-9@example.com', 'wrong password', ip);
    expect(await outcome('oscar@example.com', PASSWORD, ip)).toBe('throttled');
  });

  it('forgets an account’s failures after 15 quiet minutes', async () => {
    await register('pia@example.com');
    for (let i = 0; i < 4; i++) await outcome('pia@example.com', 'wrong password', `10.6.0.${i}`);
    expect((await counter(accountThrottleKey(ctx.config, 'pia@example.com')))?.failures).toBe(4);
    idp.clock.advance(15 * MINUTE);
    expect(await outcome('pia@example.com', 'wrong password', '10.6.1.0')).toBe('bad_credentials');
    expect(await counter(accountThrottleKey(ctx.config, 'pia@example.com'))).toMatchObject({
      failures: 1,
      blockedUntil: null,
    });
  });

  it('deletes forgotten counters, so keys never tried again do not pile up', async () => {
    const rows = () => countRows(idp, 'sign_in_throttles');
    expect(await rows()).toBeGreaterThan(10);
    idp.clock.advance(61 * MINUTE);
    await outcome('someone@example.com', 'wrong password', '10.7.0.1');
    // Only the two counters of this last attempt are left.
    expect(await rows()).toBe(2);
  });
});
