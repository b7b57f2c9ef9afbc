/**
 * What app B's server makes of a token its verifiers refused as issued in the future. The
 * signature is checked first, so its `iat` is the issuer's own clock reading: the issuer's clock is
 * ahead of ours by at least the refusal's `issuedAtOffsetSec` (by that much for a token signed a
 * moment ago). An expired token says nothing about clocks: it may simply be old.
 */
import type { Clock, ClockSkewMonitor, TokenVerificationError } from '@tessera/shared';

/** Tells the monitor, which logs `clock.skew` when the difference is large. */
export function observeTokenFromTheFuture(
  monitor: ClockSkewMonitor,
  clock: Clock,
  error: TokenVerificationError,
): void {
  const aheadSec = error.issuedAtOffsetSec;
  if (error.code !== 'ERR_TOKEN_NOT_YET_VALID' || error.claim !== 'iat' || aheadSec === undefined || aheadSec <= 0)
    return;
  // The monitor reads a whole-second iat as the middle of that second; the offset is already
  // rounded, so the half second is taken back.
  monitor.observeIssuedAt((clock.now() - 500) / 1000 + aheadSec);
}
