/** The shared status-list checker (draft-ietf-oauth-status-list-21 §8.3), and the verifier that uses it. */
import { deflateSync } from 'node:zlib';
import { Hono } from 'hono';
import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { requireBearer, type AccessTokenEnv } from '../hono/require-bearer.js';
import type { KeySet } from '../jwks/key-set.js';
import type { FetchLike } from '../http/fetch-like.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC } from '../time/clock-tolerance.js';
import { createAccessTokenVerifier } from '../verify/verify-access-token.js';
import { createTestClock, type TestClock } from '../../test/support/clock.js';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import {
  API,
  ISSUER,
  accessTokenClaims,
  createSigningKey,
  createLocalIssuer,
  handmade,
  sign,
  type SigningKey,
} from '../../test/support/issuer.js';
import { createStatusListChecker, type StatusListCheckerOptions } from './status-list-checker.js';

const LIST = `${ISSUER}/statuslists/1`;
const TTL = 60;
const LEEWAY = DEFAULT_CLOCK_TOLERANCE_SEC;

const { issuer, keySet } = await createLocalIssuer();
const attacker = await createSigningKey('ES256');

/** A 1-bit list of `size` entries with `revoked` set, as `lst`. */
function lst(revoked: number[], size = 64, bits = 1): string {
  const bytes = new Uint8Array((size * bits) / 8);
  for (const idx of revoked) bytes[Math.floor((idx * bits) / 8)]! |= 1 << ((idx * bits) % 8);
  return deflateSync(bytes).toString('base64url');
}

/** The claims of a Status List Token for `uri` as issued at `at` (seconds). */
function listClaims(at: number, revoked: number[], overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: LIST,
    iat: at,
    exp: at + 2 * TTL,
    ttl: TTL,
    status_list: { bits: 1, lst: lst(revoked) },
    ...overrides,
  };
}

const listToken = (claims: JWTPayload, key: SigningKey = issuer.es256, header: Record<string, unknown> = {}) =>
  sign(key, claims, { typ: 'statuslist+jwt', ...header });

/** An issuer's list endpoint: serves whatever `serve` answers, counting requests and keeping the last. */
function listServer(
  serve: (url: string) => Promise<Response> | Response,
): FetchLike & { calls: number; last?: { url: string; init?: RequestInit } } {
  const fetch = Object.assign(
    async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      fetch.calls++;
      const url = String(input);
      fetch.last = { url, ...(init ? { init } : {}) };
      return serve(url);
    },
    { calls: 0 } as { calls: number; last?: { url: string; init?: RequestInit } },
  );
  return fetch;
}

const jwtResponse = (token: string) =>
  new Response(token, { status: 200, headers: { 'content-type': 'application/statuslist+jwt' } });

/** A checker over a list server whose token `current` may be replaced; the clock is the test's. */
function setup(initial: (nowSec: number) => Promise<string>, extra: Partial<StatusListCheckerOptions> = {}) {
  const clock: TestClock = createTestClock();
  const nowSec = () => Math.floor(clock() / 1000);
  let current: Promise<string> = initial(nowSec());
  const fetch = listServer(async () => jwtResponse(await current));
  const checker = createStatusListChecker({ issuer: ISSUER, keySet, fetch, now: clock, ...extra });
  return {
    clock,
    fetch,
    checker,
    nowSec,
    serve(next: (nowSec: number) => Promise<string>) {
      current = next(nowSec());
    },
  };
}

const withStatus = (idx: number, uri = LIST) => ({ status: { status_list: { idx, uri } } });

describe('createStatusListChecker', () => {
  it('accepts a VALID entry and refuses an INVALID one with ERR_TOKEN_REVOKED', async () => {
    const { checker } = setup((at) => listToken(listClaims(at, [3])));
    await expect(checker.check(withStatus(2))).resolves.toBeUndefined();
    const refusal = await expectRefusal(checker.check(withStatus(3)), 'ERR_TOKEN_REVOKED');
    expect(refusal.claim).toBe('status');
  });

  it('fetches a list once for many verifications within its ttl, asking for application/statuslist+jwt', async () => {
    const { checker, fetch, clock } = setup((at) => listToken(listClaims(at, [])));
    for (let i = 0; i < 50; i++) {
      await checker.check(withStatus(i % 64));
      clock.advance(1);
    }
    expect(fetch.calls).toBe(1);
    expect(new Headers(fetch.last?.init?.headers).get('accept')).toBe('application/statuslist+jwt');
  });

  it('merges concurrent fetches of one list into one', async () => {
    const { checker, fetch } = setup((at) => listToken(listClaims(at, [])));
    await Promise.all(Array.from({ length: 20 }, (_, i) => checker.check(withStatus(i))));
    expect(fetch.calls).toBe(1);
  });

  it('fetches the list again once its ttl has passed, and reports a revocation made since', async () => {
    const { checker, fetch, clock, serve } = setup((at) => listToken(listClaims(at, [])));
    await checker.check(withStatus(5));
    serve((at) => listToken(listClaims(at, [5])));
    clock.advance(TTL - 1);
    await expect(checker.check(withStatus(5))).resolves.toBeUndefined(); // still within the ttl
    clock.advance(1);
    await expectRefusal(checker.check(withStatus(5)), 'ERR_TOKEN_REVOKED');
    expect(fetch.calls).toBe(2);
  });

  it('keeps a list until its exp plus the leeway and never longer, whatever its ttl', async () => {
    const { checker, fetch, clock } = setup((at) => listToken(listClaims(at, [], { exp: at + 10, ttl: 3600 })));
    await checker.check(withStatus(0));
    // The leeway jose granted the list at its receipt holds for its whole stay: no fetch per request.
    clock.advance(10 + LEEWAY - 1);
    await checker.check(withStatus(0));
    expect(fetch.calls).toBe(1);
    clock.advance(1);
    // The issuer serves the same (now expired) list: nothing usable is left.
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
    expect(fetch.calls).toBe(2);
  });

  it('refuses a uri that is not on the issuer origin, without fetching it', async () => {
    const { checker, fetch } = setup((at) => listToken(listClaims(at, [])));
    for (const uri of [
      'https://idp.localhost:4000/statuslists/1',
      'http://idp.localhost:4001/statuslists/1',
      'http://evil.example/statuslists/1',
      'http://user:pw@idp.localhost:4000/statuslists/1',
      'statuslists/1',
    ]) {
      await expectRefusal(checker.check(withStatus(0, uri)), 'ERR_TOKEN_CLAIM');
    }
    expect(fetch.calls).toBe(0);
  });

  it('fetches from another origin only when it is configured', async () => {
    const cdn = 'https://status.example.com/lists/1';
    const { checker, fetch } = setup((at) => listToken(listClaims(at, [], { sub: cdn })), {
      origins: ['https://status.example.com'],
    });
    await checker.check(withStatus(0, cdn));
    expect(fetch.last?.url).toBe(cdn);
  });

  it('refuses a tampered Status List Token: the list changed under the signature', async () => {
    const { checker } = setup(async (at) => {
      const [header, , signature] = (await listToken(listClaims(at, [3]))).split('.');
      const forged = Buffer.from(JSON.stringify(listClaims(at, []))).toString('base64url');
      return `${header}.${forged}.${signature}`;
    });
    const refusal = await expectRefusal(checker.check(withStatus(3)), 'ERR_JWKS_UNAVAILABLE');
    expect(refusal.claim).toBe('status');
  });

  it.each([
    ['signed with a key the issuer does not publish', (at: number) => listToken(listClaims(at, []), attacker)],
    [
      'of another type (an access token)',
      (at: number) => listToken(listClaims(at, []), issuer.es256, { typ: 'at+jwt' }),
    ],
    ['about another list (sub)', (at: number) => listToken(listClaims(at, [], { sub: `${ISSUER}/statuslists/2` }))],
    ['from another issuer (iss)', (at: number) => listToken(listClaims(at, [], { iss: 'http://other.localhost' }))],
    ['that has expired', (at: number) => listToken(listClaims(at - 600, []))],
    ['issued in the future', (at: number) => listToken(listClaims(at + 600, []))],
    ['with a ttl that is not a positive number', (at: number) => listToken(listClaims(at, [], { ttl: 0 }))],
    [
      'with bits other than 1, 2, 4 or 8',
      (at: number) => listToken(listClaims(at, [], { status_list: { bits: 3, lst: lst([]) } })),
    ],
    [
      'unsigned (alg none)',
      async (at: number) => handmade({ alg: 'none', typ: 'statuslist+jwt', kid: issuer.es256.kid }, listClaims(at, [])),
    ],
  ])('refuses a Status List Token %s', async (_name, token) => {
    const { checker } = setup(token);
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
  });

  it('refuses a list that inflates past maxListBytes (a ZLIB bomb)', async () => {
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024)).toString('base64url');
    const { checker } = setup((at) => listToken(listClaims(at, [], { status_list: { bits: 1, lst: bomb } })), {
      maxListBytes: 1024 * 1024,
    });
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
  });

  it('refuses an idx past the end of the list, and a token without a usable status claim', async () => {
    const { checker } = setup((at) => listToken(listClaims(at, [])));
    await expectRefusal(checker.check(withStatus(64)), 'ERR_TOKEN_CLAIM');
    for (const claims of [
      {},
      { status: {} },
      { status: { status_list: { idx: -1, uri: LIST } } },
      { status: { status_list: { idx: 0 } } },
    ]) {
      await expectRefusal(checker.check(claims), 'ERR_TOKEN_CLAIM');
    }
  });

  it('refuses a SUSPENDED entry of a 2-bit list', async () => {
    const { checker } = setup((at) => listToken(listClaims(at, [], { status_list: { bits: 2, lst: lst([], 64, 2) } })));
    await checker.check(withStatus(1));
    const { checker: suspended } = setup(async (at) => {
      const bytes = new Uint8Array(16);
      bytes[0] = 0x02 << 2; // entry 1 is SUSPENDED (§7.1)
      return listToken(listClaims(at, [], { status_list: { bits: 2, lst: deflateSync(bytes).toString('base64url') } }));
    });
    await expectRefusal(suspended.check(withStatus(1)), 'ERR_TOKEN_REVOKED');
  });

  it('does not follow a redirect, and waits retryAfterSec before asking again after a failure', async () => {
    const clock = createTestClock();
    const fetch = listServer(
      () => new Response(null, { status: 302, headers: { location: 'http://evil.example/list' } }),
    );
    const checker = createStatusListChecker({ issuer: ISSUER, keySet, fetch, now: clock, retryAfterSec: 5 });
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
    expect(fetch.last?.init?.redirect).toBe('manual');
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
    expect(fetch.calls).toBe(1);
    clock.advance(5);
    await expectRefusal(checker.check(withStatus(0)), 'ERR_JWKS_UNAVAILABLE');
    expect(fetch.calls).toBe(2);
  });

  it('refuses misuse of its options with a TypeError', () => {
    expect(() => createStatusListChecker({ issuer: '', keySet })).toThrow(TypeError);
    expect(() => createStatusListChecker({ issuer: 'not a url', keySet })).toThrow(TypeError);
    expect(() => createStatusListChecker({ issuer: ISSUER, keySet: {} as KeySet })).toThrow(TypeError);
    expect(() => createStatusListChecker({ issuer: ISSUER, keySet, maxListBytes: 0 })).toThrow(TypeError);
    expect(() => createStatusListChecker({ issuer: ISSUER, keySet, minTtlSec: 10, maxTtlSec: 5 })).toThrow(TypeError);
    expect(() => createStatusListChecker({ issuer: ISSUER, keySet, log: {} as Logger })).toThrow(TypeError);
  });
});

describe('createStatusListChecker when the issuer cannot give a fresh list', () => {
  const RETRY = 5;
  type Answer = (nowSec: number) => Promise<Response>;
  const unreachable: Answer = async () => {
    throw new TypeError('fetch failed');
  };
  /** What the issuer would serve next: entry 5 revoked, entry 3 valid again (the held list says the opposite). */
  const FAILURES: [string, Answer][] = [
    ['the issuer cannot be reached', unreachable],
    ['the issuer answers HTTP 500', async () => new Response('', { status: 500 })],
    [
      'the answer does not verify (a key the issuer does not publish)',
      async (at) => jwtResponse(await listToken(listClaims(at, [5]), attacker)),
    ],
    [
      'the answer is about another list',
      async (at) => jwtResponse(await listToken(listClaims(at, [5], { sub: `${LIST}0` }))),
    ],
  ];

  /** A checker whose list server first serves `first` (entry 3 revoked by default); what it logs is kept. */
  function degradable(first: (nowSec: number) => Promise<string> = (at) => listToken(listClaims(at, [3]))) {
    const clock = createTestClock();
    const logged: { level: keyof Logger; event: string; fields: Record<string, unknown> }[] = [];
    const log: Logger = {
      info: (event, fields = {}) => logged.push({ level: 'info', event, fields }),
      warn: (event, fields = {}) => logged.push({ level: 'warn', event, fields }),
      error: (event, fields = {}) => logged.push({ level: 'error', event, fields }),
    };
    let next: Answer = async (at) => jwtResponse(await first(at));
    const fetch = listServer(() => next(Math.floor(clock() / 1000)));
    const checker = createStatusListChecker({ issuer: ISSUER, keySet, fetch, now: clock, log, retryAfterSec: RETRY });
    return {
      clock,
      fetch,
      checker,
      logged,
      answer(then: Answer) {
        next = then;
      },
    };
  }

  it.each(FAILURES)(
    'answers from the last good list when %s, counted and logged, until its exp plus the leeway',
    async (_name, failure) => {
      const { checker, clock, fetch, logged, answer } = degradable();
      await checker.check(withStatus(5));
      answer(failure);
      clock.advance(TTL);

      // The held list's bits, not the failed answer's: 5 still valid, 3 still revoked.
      await expect(checker.check(withStatus(5))).resolves.toBeUndefined();
      await expectRefusal(checker.check(withStatus(3)), 'ERR_TOKEN_REVOKED');
      expect(fetch.calls).toBe(2); // one refresh, not one per request
      expect(checker.stats()).toEqual({ staleAnswers: 2, refreshFailures: 1 });
      expect(logged).toEqual([
        {
          level: 'warn',
          event: 'status_list.stale',
          fields: expect.objectContaining({ uri: LIST, staleForSec: 0, staleAnswers: 0, code: 'ERR_JWKS_UNAVAILABLE' }),
        },
      ]);

      // No new request before retryAfterSec, then one.
      clock.advance(RETRY - 1);
      await checker.check(withStatus(5));
      expect(fetch.calls).toBe(2);
      clock.advance(1);
      await checker.check(withStatus(5));
      expect(fetch.calls).toBe(3);
      expect(logged[1]).toEqual({
        level: 'warn',
        event: 'status_list.stale',
        fields: expect.objectContaining({ uri: LIST, staleForSec: RETRY, staleAnswers: 3 }),
      });

      // The list was signed with exp = iat + 2 × ttl: usable until then plus the leeway, not a second more.
      clock.advance(2 * TTL + LEEWAY - TTL - RETRY - 1);
      await checker.check(withStatus(5));
      clock.advance(1);
      await expectRefusal(checker.check(withStatus(5)), 'ERR_JWKS_UNAVAILABLE');
      await expectRefusal(checker.check(withStatus(3)), 'ERR_JWKS_UNAVAILABLE');
      expect(checker.stats()).toEqual({ staleAnswers: 5, refreshFailures: 3 });
    },
  );

  it('takes the next good list as soon as the issuer gives one, and stops answering from the old one', async () => {
    const { checker, clock, logged, answer } = degradable();
    await checker.check(withStatus(5));
    answer(unreachable);
    clock.advance(TTL);
    await checker.check(withStatus(5));
    // Entry 5 was revoked while the issuer could not be reached.
    answer(async (at) => jwtResponse(await listToken(listClaims(at, [5]))));
    clock.advance(RETRY);
    await expectRefusal(checker.check(withStatus(5)), 'ERR_TOKEN_REVOKED');
    await expect(checker.check(withStatus(3))).resolves.toBeUndefined();
    expect(checker.stats()).toEqual({ staleAnswers: 1, refreshFailures: 1 });
    expect(logged.map(({ level, event }) => `${level} ${event}`)).toEqual([
      'warn status_list.stale',
      'info status_list.refreshed',
    ]);
    expect(logged[1]?.fields).toEqual({ uri: LIST, staleForSec: RETRY });
  });

  it('asks the issuer once at a time: while a retry hangs, other requests answer from the last good list', async () => {
    const { checker, clock, fetch, answer } = degradable();
    await checker.check(withStatus(5));
    answer(unreachable);
    clock.advance(TTL);
    await checker.check(withStatus(5));

    let release: (response: Response) => void = () => undefined;
    answer(() => new Promise<Response>((resolve) => (release = resolve)));
    clock.advance(RETRY);
    const retrying = checker.check(withStatus(5));
    // These settle while the retry is still waiting on the issuer.
    await Promise.all(Array.from({ length: 10 }, () => checker.check(withStatus(5))));
    expect(fetch.calls).toBe(3);
    release(new Response('', { status: 503 }));
    await expect(retrying).resolves.toBeUndefined();
    expect(checker.stats()).toEqual({ staleAnswers: 12, refreshFailures: 2 });
  });

  it('uses a list without exp for twice its ttl after its fetch, no longer', async () => {
    const { checker, clock, answer } = degradable((at) => {
      const claims = listClaims(at, [3]);
      delete claims.exp;
      return listToken(claims);
    });
    await checker.check(withStatus(5));
    answer(unreachable);
    clock.advance(2 * TTL - 1);
    await checker.check(withStatus(5));
    clock.advance(1);
    await expectRefusal(checker.check(withStatus(5)), 'ERR_JWKS_UNAVAILABLE');
  });

  it('refuses at once when no list was ever had', async () => {
    const { checker, fetch, logged } = degradable(async () => {
      throw new TypeError('fetch failed');
    });
    await expectRefusal(checker.check(withStatus(5)), 'ERR_JWKS_UNAVAILABLE');
    expect(fetch.calls).toBe(1);
    expect(checker.stats()).toEqual({ staleAnswers: 0, refreshFailures: 1 });
    expect(logged).toEqual([]);
  });
});

describe('access token verification with statusLists', () => {
  const at = { typ: 'at+jwt' } as const;

  it('refuses a revoked token even when the verified token is remembered', async () => {
    const { checker, clock, serve } = setup((t) => listToken(listClaims(t, [])));
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: API,
      keySet,
      statusLists: checker,
      now: clock,
    });
    const token = await sign(
      issuer.es256,
      accessTokenClaims({ ...withStatus(7), iat: Math.floor(clock() / 1000), exp: Math.floor(clock() / 1000) + 300 }),
      at,
    );
    await verify(token);
    serve((t) => listToken(listClaims(t, [7])));
    clock.advance(TTL);
    await expectRefusal(verify(token), 'ERR_TOKEN_REVOKED');
  });

  it('is off unless asked for: a token without a status claim passes', async () => {
    const verify = createAccessTokenVerifier({ issuer: ISSUER, audience: API, keySet });
    await expect(verify(await sign(issuer.es256, accessTokenClaims(), at))).resolves.toBeTruthy();
    expect(() =>
      createAccessTokenVerifier({ issuer: ISSUER, audience: API, keySet, statusLists: {} as never }),
    ).toThrow(TypeError);
  });

  it('makes requireBearer answer 401 invalid_token for a revoked token, 503 when the list is unavailable', async () => {
    const { checker } = setup((t) => listToken(listClaims(t, [1])));
    const down = createStatusListChecker({
      issuer: ISSUER,
      keySet,
      fetch: listServer(() => new Response('', { status: 500 })),
    });
    const api = (statusLists: typeof checker) => {
      const app = new Hono<AccessTokenEnv>();
      app.use('/api/*', requireBearer({ issuer: ISSUER, audience: API, keySet, statusLists }));
      app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
      return app;
    };
    const call = async (statusLists: typeof checker, idx: number) =>
      api(statusLists).request('/api/me', {
        headers: { authorization: `Bearer ${await sign(issuer.es256, accessTokenClaims(withStatus(idx)), at)}` },
      });

    expect((await call(checker, 0)).status).toBe(200);
    const revoked = await call(checker, 1);
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ error: 'invalid_token', error_description: 'The access token was revoked' });
    const unavailable = await call(down, 0);
    expect(unavailable.status).toBe(503);
    expect((await unavailable.json()).error).toBe('temporarily_unavailable');
  });
});
