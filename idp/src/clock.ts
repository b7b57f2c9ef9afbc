/** The time source: passed in, so tests can move it and routes never call Date.now(). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Whole seconds since the epoch, as JWT NumericDate values are (RFC 7519 §2). */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
