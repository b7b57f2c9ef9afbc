/** The time source: passed in, so tests can move it and routes never call Date.now(). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
