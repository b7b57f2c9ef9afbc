/**
 * The time source of a server: passed in, so tests can move it and no route calls Date.now().
 * The verifiers' `now` options take the same function as `Clock['now']`. Browser-safe.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Whole seconds since the epoch, as JWT NumericDate values are (RFC 7519 §2). */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
