/**
 * The sign-in throttle under concurrency (OWASP ASVS V2.2.1): attempts merely in flight never
 * refuse a correct password — the excess waits its turn — while parallel wrong guesses still meet
 * exactly the limits of README.md ("Brute-force protection"): five checked on an account and ten
 * from an IP before the first delay, one at a time after it, a lock at 20 and at 15. Also across
 * two issuers sharing one database file, and over HTTP from behind one office NAT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue } from '@tessera/shared/testing';
import type { IssuerContext } from '../src/context.js';
import type { PasswordParams } from '../src/crypto/passwords.js';
import { registerUser } from '../src/protocol/registration.js';
import { MAX_WAIT_FOR_TURN, accountThrottleKey, ipThrottleKey } from '../src/protocol/sign-in-throttle.js';
import { PASSWORD, sql, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInOutcome } from './support/sign-in-outcome.js';

/** Cheap argon2id: what is under test is the bookkeeping around the verification, not its cost. */
const FAST: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const MINUTE = 60;
const IN_FLIGHT = 32;

let idp: RunningIssuer;
let ctx: IssuerContext;

beforeAll(async () => {
  idp = await startIssuer({ env: { TESSERA_TRUST_PROXY: '1' }, issuer: { passwordParams: FAST } });
  ctx = idp.issuer.ctx;
});
afterAll(() => idp.cleanup());

const register = (email: string, running = idp) => {
  const { store, passwords, clock } = running.issuer.ctx;
  return registerUser({ store, passwords, clock }, { email, displayName: email, password: PASSWORD });
};

/** Why an attempt was refused, or 'signed_in'. */
const outcome = (email: string, password: string, ip: string, context: IssuerContext = ctx) =>
  signInOutcome(context, email, password, ip);

const tally = (outcomes: string[]) =>
  outcomes.reduce<Record<string, number>>((t, o) => {
    t[o] = (t[o] ?? 0) + 1;
    return t;
  }, {});

const failures = async (key: string, running = idp) =>
  (await sql(running, 'select failures from sign_in_throttles where key = ?', key))[0]?.failures;

const inParallel = <T>(n: number, attempt: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => attempt(i)));

describe('correct passwords in flight together', () => {
  it('all sign in to one account, from as many IPs', async () => {
    await register('ada@example.com');
    const outcomes = await inParallel(IN_FLIGHT, (i) => outcome('ada@example.com', PASSWORD, `10.10.0.${i}`));
    expect(tally(outcomes)).toEqual({ signed_in: IN_FLIGHT });
    expect(await failures(accountThrottleKey(ctx.config, 'ada@example.com'))).toBeUndefined();
  });

  it('all sign in to one account, from one IP', async () => {
    await register('bea@example.com');
    const outcomes = await inParallel(IN_FLIGHT, () => outcome('bea@example.com', PASSWORD, '10.11.0.1'));
    expect(tally(outcomes)).toEqual({ signed_in: IN_FLIGHT });
  });

  it('all sign in to as many accounts from one IP (an office behind NAT)', async () => {
    await inParallel(IN_FLIGHT, (i) => register(`office-${i}@example.com`));
    const outcomes = await inParallel(IN_FLIGHT, (i) => outcome(`office-${i}@example.com`, PASSWORD, '10.12.0.1'));
    expect(tally(outcomes)).toEqual({ signed_in: IN_FLIGHT });
    expect(await failures(ipThrottleKey('10.12.0.1'))).toBeUndefined();
  });

  it('sign in while a few wrong guesses on the same account are in flight', async () => {
    await register('cy@example.com');
    const outcomes = await inParallel(IN_FLIGHT, (i) =>
      outcome('cy@example.com', i % 8 === 0 ? 'wrong password' : PASSWORD, `10.13.0.${i}`),
    );
    // Four wrong guesses stay under the account's five free failures: every right password gets in.
    expect(tally(outcomes)).toEqual({ signed_in: IN_FLIGHT - 4, bad_credentials: 4 });
  });
});

describe('wrong guesses in flight together', () => {
  it('have only five checked on one account, the rest refused as throttled', async () => {
    await register('dan@example.com');
    const outcomes = await inParallel(IN_FLIGHT, (i) => outcome('dan@example.com', 'wrong password', `10.20.0.${i}`));
    expect(tally(outcomes)).toEqual({ bad_credentials: 5, throttled: IN_FLIGHT - 5 });
    expect(await failures(accountThrottleKey(ctx.config, 'dan@example.com'))).toBe(5);
  });

  it('have only ten checked from one IP, the rest refused as throttled', async () => {
    const outcomes = await inParallel(IN_FLIGHT, (i) =>
      outcome(`nobody-${i}@example.com`, 'wrong password', '10.21.0.1'),
    );
    expect(tally(outcomes)).toEqual({ bad_credentials: 10, throttled: IN_FLIGHT - 10 });
    expect(await failures(ipThrottleKey('10.21.0.1'))).toBe(10);
  });

  it('lock an account at 20 failures, one checked per burst once it is in backoff', async () => {
    await register('eve@example.com');
    const checked: number[] = [];
    for (let burst = 0; burst < 17; burst++) {
      const outcomes = await inParallel(IN_FLIGHT, (i) =>
        outcome('eve@example.com', 'wrong password', `10.${30 + burst}.0.${i}`),
      );
      checked.push(tally(outcomes).bad_credentials ?? 0);
      // Past every backoff delay (60 s at most), short of the 15-minute lock.
      idp.clock.advance(MINUTE);
    }
    expect(checked).toEqual([5, ...Array(15).fill(1), 0]);
    expect(await failures(accountThrottleKey(ctx.config, 'eve@example.com'))).toBe(20);
    expect(await outcome('eve@example.com', PASSWORD, '10.99.0.1')).toBe('locked');
  });

  it('lock an IP at 15 failures, one checked per burst once it is in backoff', async () => {
    const ip = '10.50.0.1';
    const checked: number[] = [];
    for (let burst = 0; burst < 7; burst++) {
      const outcomes = await inParallel(IN_FLIGHT, (i) =>
        outcome(`guess-${burst}-${i}@example.com`, 'wrong password', ip),
      );
      checked.push(tally(outcomes).bad_credentials ?? 0);
      idp.clock.advance(MINUTE);
    }
    expect(checked).toEqual([10, 1, 1, 1, 1, 1, 0]);
    expect(await failures(ipThrottleKey(ip))).toBe(15);
  });
});

describe('attempts that never end', () => {
  it('make the next wait at most MAX_WAIT_FOR_TURN, then lapse after a minute (their process died)', async () => {
    await register('hal@example.com');
    const account = {
      key: accountThrottleKey(ctx.config, 'hal@example.com'),
      policy: { forgetAfter: 0, blockedUntil: () => null },
    };
    // Five attempts of a process that died while checking them: the account's whole allowance.
    for (let i = 0; i < 5; i++) {
      const now = ctx.clock.now();
      expect(await ctx.store.signInThrottles.reserve(`dead-${i}`, [account], now, now + MINUTE * 1000)).toEqual({
        outcome: 'reserved',
      });
    }
    const waiting = outcome('hal@example.com', PASSWORD, '10.70.0.1');
    await new Promise((r) => setTimeout(r, 200));
    idp.clock.advance(MAX_WAIT_FOR_TURN / 1000);
    expect(await waiting).toBe('throttled');
    idp.clock.advance(MINUTE);
    expect(await outcome('hal@example.com', PASSWORD, '10.70.0.1')).toBe('signed_in');
  });
});

describe('two issuers sharing one database', () => {
  let second: RunningIssuer;
  beforeAll(async () => {
    second = await startIssuer({
      database: idp.database,
      env: { TESSERA_TRUST_PROXY: '1' },
      issuer: { passwordParams: FAST },
    });
    second.clock.offset = idp.clock.offset;
  });
  afterAll(() => second.stop());

  const either = (i: number) => (i % 2 === 0 ? ctx : second.issuer.ctx);

  it('sign in every correct password sent to either', async () => {
    await register('fay@example.com');
    const outcomes = await inParallel(IN_FLIGHT, (i) =>
      outcome('fay@example.com', PASSWORD, `10.60.0.${i}`, either(i)),
    );
    expect(tally(outcomes)).toEqual({ signed_in: IN_FLIGHT });
  });

  it('check only five wrong guesses between them', async () => {
    await register('gus@example.com');
    const outcomes = await inParallel(IN_FLIGHT, (i) =>
      outcome('gus@example.com', 'wrong password', `10.61.0.${i}`, either(i)),
    );
    expect(tally(outcomes)).toEqual({ bad_credentials: 5, throttled: IN_FLIGHT - 5 });
  });
});

describe('the sign-in form from behind one office NAT', () => {
  /** A browser at the sign-in form, and a way to post its credentials. */
  async function openForm(): Promise<(email: string, password: string, ip: string) => Promise<number>> {
    const jar = createCookieJarClient();
    const page = await (await jar.fetch(new URL('/sign-in', idp.url))).text();
    return async (email, password, ip) => {
      const res = await jar.fetch(new URL('/sign-in', idp.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: new URL(idp.url).origin,
          'x-forwarded-for': ip,
        },
        body: new URLSearchParams({
          interaction: formValue(page, 'interaction')!,
          csrf_token: formValue(page, 'csrf_token')!,
          email,
          password,
        }),
      });
      await res.arrayBuffer();
      return res.status;
    };
  }

  it('signs in everyone who signs in at once, to their own accounts or to one shared account', async () => {
    await inParallel(IN_FLIGHT, (i) => register(`staff-${i}@example.com`));
    await register('front-desk@example.com');
    const forms = await inParallel(2 * IN_FLIGHT, () => openForm());
    const statuses = await Promise.all(
      forms.map((post, i) =>
        post(i < IN_FLIGHT ? `staff-${i}@example.com` : 'front-desk@example.com', PASSWORD, '192.0.2.77'),
      ),
    );
    expect(tally(statuses.map(String))).toEqual({ 303: 2 * IN_FLIGHT });
  });
});
