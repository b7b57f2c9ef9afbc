/**
 * What app A makes of a token its verifiers refused as issued in the future. The signature is
 * checked first, so its `iat` is the issuer's own clock reading: the issuer's clock is ahead of
 * ours by at least the refusal's `issuedAtOffsetSec`, and by that much for a token signed a moment
 * ago (at the callback). An expired token says nothing about clocks: it may simply be old (a stale
 * token in a forged response), so only the shared monitor's `Date` header readings speak to a
 * clock of ours that runs ahead.
 */
import { TokenVerificationError, type Clock, type ClockSkewMonitor } from '@tessera/shared';

/** How far in our future a refused token was issued, in seconds; undefined for any other refusal. */
export function issuedInTheFutureBy(error: unknown): number | undefined {
  if (!(error instanceof TokenVerificationError) || error.code !== 'ERR_TOKEN_NOT_YET_VALID' || error.claim !== 'iat')
    return undefined;
  const offset = error.issuedAtOffsetSec;
  // Zero is a strict verifier and a skew under a second, which explains nothing to anyone.
  return offset === undefined || offset <= 0 ? undefined : offset;
}

/** Tells the monitor, which logs `clock.skew` when the difference is large. */
export function observeTokenFromTheFuture(monitor: ClockSkewMonitor, clock: Clock, error: unknown): void {
  const aheadSec = issuedInTheFutureBy(error);
  // The monitor reads a whole-second iat as the middle of that second; the offset is already
  // rounded, so the half second is taken back and the log names the number the page shows.
  if (aheadSec !== undefined) monitor.observeIssuedAt((clock.now() - 500) / 1000 + aheadSec);
}
