/**
 * How far this server's clock is from its issuer's, estimated from what the issuer sends anyway:
 * the HTTP `Date` header of its responses (RFC 9110 §6.6.1, whole seconds) and the `iat` of tokens
 * it has just issued. Nothing here decides whether a token is accepted — the leeway does that
 * (./clock-tolerance.ts); this names the likely cause when clocks drift apart, in the log for the
 * operator and in words a page can show.
 */
import type { FetchLike } from '../http/fetch-like.js';
import type { Logger } from '../log/logger.js';
import { TokenVerificationError } from '../verify/errors.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC } from './clock-tolerance.js';

/**
 * Words for a clock difference: `issuerAheadSec` > 0 when the issuer's clock is ahead of this
 * server's. `names` says whose clocks they are, for a reader other than the operator (app B's
 * browser code checks tokens on the person's device).
 */
export function describeClockSkew(
  issuerAheadSec: number,
  names: { local: string; issuer: string } = { local: "this server's", issuer: "the issuer's" },
): string {
  const seconds = Math.round(Math.abs(issuerAheadSec));
  if (seconds === 0) return `${names.local} clock agrees with ${names.issuer}`;
  return issuerAheadSec > 0
    ? `${names.local} clock is ${seconds} s behind ${names.issuer}`
    : `${names.local} clock is ${seconds} s ahead of ${names.issuer}`;
}

/**
 * How far in this server's future a token was issued, in whole seconds, when `error` refused it for
 * that (`iat` past the leeway); undefined for any other error. The signature is checked before the
 * claims, so that `iat` is the issuer's own clock reading: for a token signed a moment ago (at the
 * callback) it is how far the issuer's clock is ahead. An expired token says nothing about clocks:
 * it may simply be old.
 */
export function issuedInTheFutureBy(error: unknown): number | undefined {
  if (!(error instanceof TokenVerificationError) || error.code !== 'ERR_TOKEN_NOT_YET_VALID' || error.claim !== 'iat')
    return undefined;
  const offset = error.issuedAtOffsetSec;
  // Zero is a strict verifier and a skew under a second, which explains nothing to anyone.
  return offset === undefined || offset <= 0 ? undefined : offset;
}

/** Estimates the clock difference to one issuer and logs it when it is large. */
export interface ClockSkewMonitor {
  /** A `Date` header value of an issuer response, received just now. */
  observeDateHeader(value: string | null): void;
  /** The `iat` of a token the issuer has just issued (a token response, not a stored token). */
  observeIssuedAt(iat: unknown): void;
  /** A verifier's refusal: one of a token issued in the future (see {@link issuedInTheFutureBy}) is a reading. */
  observeRefusal(error: unknown): void;
  /** The latest estimate, in seconds: positive when the issuer is ahead; undefined before any reading. */
  issuerAheadSec(): number | undefined;
}

export interface ClockSkewMonitorOptions {
  log: Logger;
  /** This server's clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /** The leeway the verifiers apply: a difference beyond it is logged as an error (tokens are refused). */
  toleranceSec?: number;
  /**
   * A difference at least this large is logged as a warning (default 5 s: well above the readings'
   * own error); one past the leeway is logged as an error whatever its size.
   */
  warnAboveSec?: number;
}

/** A logged difference is logged again after this long, or sooner when it moved by `warnAboveSec`. */
const RELOG_AFTER_MS = 10 * 60_000;

/**
 * A monitor for one issuer. Each reading replaces the estimate; both readings are within about a
 * second of the truth (whole-second values, plus the response's time in flight), which is why
 * differences under `warnAboveSec` are not reported unless they are past the leeway.
 */
export function createClockSkewMonitor(options: ClockSkewMonitorOptions): ClockSkewMonitor {
  const now = options.now ?? Date.now;
  const toleranceSec = options.toleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const warnAboveSec = options.warnAboveSec ?? 5;
  let estimate: number | undefined;
  let logged: { at: number; aheadSec: number; beyond: boolean } | undefined;

  function record(issuerMs: number, source: 'date_header' | 'iat'): void {
    const local = now();
    const aheadSec = Math.round((issuerMs - local) / 1000);
    estimate = aheadSec;
    // Past the leeway tokens are refused, which is always worth a line, even under `warnAboveSec`
    // (a strict verifier's leeway of 0).
    const beyond = Math.abs(aheadSec) > toleranceSec;
    if (Math.abs(aheadSec) < warnAboveSec && !beyond) {
      logged = undefined;
      return;
    }
    // A warning logged a moment ago does not stand for an error: crossing the leeway is news.
    if (
      logged !== undefined &&
      local - logged.at < RELOG_AFTER_MS &&
      logged.beyond === beyond &&
      Math.abs(aheadSec - logged.aheadSec) < warnAboveSec
    )
      return;
    logged = { at: local, aheadSec, beyond };
    options.log[beyond ? 'error' : 'warn']('clock.skew', {
      issuerAheadSec: aheadSec,
      toleranceSec,
      source,
      likelyCause: describeClockSkew(aheadSec),
      consequence: beyond
        ? 'tokens from the issuer are refused as issued in the future or expired; synchronise the clocks (NTP)'
        : 'within the leeway; synchronise the clocks (NTP) before it grows past it',
    });
  }

  return {
    observeDateHeader(value) {
      if (value === null) return;
      const issuerMs = Date.parse(value);
      // The header is truncated to the second: the issuer's clock read somewhere in the next 1000 ms.
      if (Number.isFinite(issuerMs)) record(issuerMs + 500, 'date_header');
    },
    observeIssuedAt(iat) {
      if (typeof iat === 'number' && Number.isFinite(iat)) record(iat * 1000 + 500, 'iat');
    },
    observeRefusal(error) {
      const aheadSec = issuedInTheFutureBy(error);
      // Already whole seconds against this clock: no half second to add.
      if (aheadSec !== undefined) record(now() + aheadSec * 1000, 'iat');
    },
    issuerAheadSec: () => estimate,
  };
}

/**
 * A fetch that reads the `Date` header of every response from `origin` into `monitor`: a relying
 * party's server passes this one fetch to its issuer client, code exchange and status lists.
 */
export function observingIssuerClock(fetch: FetchLike, origin: string, monitor: ClockSkewMonitor): FetchLike {
  const issuerOrigin = new URL(origin).origin;
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (URL.parse(url)?.origin === issuerOrigin) monitor.observeDateHeader(response.headers.get('date'));
    return response;
  };
}
