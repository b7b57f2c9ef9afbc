/**
 * Properties of the status-list checker's time checks (draft-ietf-oauth-status-list-21 §8.3) when
 * the app and the issuer run on different machines: whatever the fetch takes and wherever the
 * second boundaries fall, a list is accepted while the two clocks are within the leeway, and a list
 * from an issuer clock too far ahead is refused. The issuer signs for real (jose, a local key, the
 * claims `idp/` signs); time is a shared virtual clock the fetch moves forward.
 *
 *   STATUS_PROPERTY_SEED=<seed> STATUS_PROPERTY_RUNS=<n> npx vitest run src/status/status-list-checker.property.test.ts
 */
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '../http/fetch-like.js';
import { createLocalKeySet } from '../jwks/local-key-set.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC, MAX_CLOCK_TOLERANCE_SEC } from '../time/clock-tolerance.js';
import { TokenVerificationError } from '../verify/errors.js';
import { createSigningKey } from '../../test/support/issuer.js';
import { createStatusListChecker } from './status-list-checker.js';

const SEED = Number(process.env.STATUS_PROPERTY_SEED ?? 20_261_205);
const RUNS = Number(process.env.STATUS_PROPERTY_RUNS ?? 300);

const ISSUER = 'http://idp.localhost:4000';
const LIST = `${ISSUER}/statuslists/1`;
const TTL = 60;
const key = await createSigningKey('ES256');
const keySet = await createLocalKeySet({ keys: [key.publicJwk] });
const LST = deflateSync(new Uint8Array(8)).toString('base64url');

/** What the issuer does on a list request: signs the current list with its own clock's `iat` (idp/src/status-list). */
const signList = (issuerMs: number) => {
  const iat = Math.floor(issuerMs / 1000);
  return new SignJWT({ iss: ISSUER, sub: LIST, iat, exp: iat + 2 * TTL, ttl: TTL, status_list: { bits: 1, lst: LST } })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'statuslist+jwt' })
    .sign(key.privateKey);
};

/**
 * One list fetch over a network taking `requestMs` there and `responseMs` back, by an app whose
 * clock reads `offsetMs` off the issuer's.
 */
interface Exchange {
  toleranceSec: number;
  /** The issuer's clock when the fetch starts, epoch milliseconds (any fraction: second boundaries fall anywhere). */
  startMs: number;
  requestMs: number;
  responseMs: number;
  offsetMs: number;
}

/** Runs one exchange; resolves with the checker's answer for entry 0, or its refusal. */
async function exchange({ toleranceSec, startMs, requestMs, responseMs, offsetMs }: Exchange) {
  let issuerMs = startMs;
  const fetch: FetchLike = async () => {
    issuerMs += requestMs;
    const token = await signList(issuerMs);
    issuerMs += responseMs;
    return new Response(token, { status: 200, headers: { 'content-type': 'application/statuslist+jwt' } });
  };
  const checker = createStatusListChecker({
    issuer: ISSUER,
    keySet,
    fetch,
    now: () => issuerMs + offsetMs,
    clockToleranceSec: toleranceSec,
  });
  return checker.statusOf({ idx: 0, uri: LIST }).then(
    (status) => ({ status }),
    (error: unknown) => ({ error }),
  );
}

/**
 * Milliseconds from `min` to `max` at microsecond steps. (fc.double draws evenly among the doubles
 * themselves, so most of its draws would be nearly 0: delays that never straddle a second.)
 */
const millis = (min: number, max: number) =>
  fc.integer({ min: Math.round(min * 1000), max: Math.round(max * 1000) }).map((us) => us / 1000);

const tolerance = fc.constantFrom(0, 1, DEFAULT_CLOCK_TOLERANCE_SEC, MAX_CLOCK_TOLERANCE_SEC);
/** Any instant, its place within the second drawn on its own so that every place is tried. */
const startMs = fc
  .tuple(fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), millis(0, 999.999))
  .map(([seconds, withinMs]) => seconds * 1000 + withinMs);
/** A fetch taking 0 to 2 s (the later of two draws), the issuer signing at the earlier one. */
const legs = fc
  .tuple(millis(0, 2000), millis(0, 2000))
  .map(([a, b]) => ({ requestMs: Math.min(a, b), responseMs: Math.max(a, b) - Math.min(a, b) }));

describe('the status-list checker between two clocks (property)', () => {
  it('accepts a list whenever the app clock is within the leeway of the issuer clock, whatever the delay', async () => {
    const within = tolerance.chain((toleranceSec) =>
      fc.record({
        toleranceSec: fc.constant(toleranceSec),
        startMs,
        legs,
        offsetMs: millis(-toleranceSec * 1000, toleranceSec * 1000),
      }),
    );
    await fc.assert(
      fc.asyncProperty(within, async ({ legs: l, ...rest }) => {
        const answer = await exchange({ ...rest, ...l });
        expect(answer).toEqual({ status: 0 });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('refuses a list signed more than the leeway + 1 s ahead of the app clock at receipt', async () => {
    const beyond = tolerance.chain((toleranceSec) =>
      fc.record({
        toleranceSec: fc.constant(toleranceSec),
        startMs,
        legs,
        // How much further behind than the leeway the app's clock reads when the list arrives.
        pastMs: millis(1000.001, 3_600_000),
      }),
    );
    await fc.assert(
      fc.asyncProperty(beyond, async ({ legs: l, pastMs, toleranceSec, ...rest }) => {
        // The app reads the issuer's signing instant minus (leeway + pastMs) when the list reaches it.
        const offsetMs = -(toleranceSec * 1000 + pastMs + l.responseMs);
        const answer = await exchange({ ...rest, ...l, toleranceSec, offsetMs });
        expect(answer).toEqual({ error: expect.any(TokenVerificationError) });
        expect((answer as { error: TokenVerificationError }).error.code).toBe('ERR_JWKS_UNAVAILABLE');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
