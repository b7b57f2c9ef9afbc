import { describe, expect, it } from 'vitest';
import { randomBase64url } from './random-pool.js';

const decoded = (value: string) => Buffer.from(value, 'base64url');

describe('randomBase64url', () => {
  it('gives the bytes asked for, base64url-encoded without padding', () => {
    for (const bytes of [1, 16, 32, 64]) {
      const value = randomBase64url(bytes);
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decoded(value)).toHaveLength(bytes);
    }
  });

  it('never hands out the same bytes twice, across several refills of the pool', () => {
    // 3,000 values of 16 bytes: about twelve 4 KiB pools, each value checked against every other.
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(randomBase64url(16));
    expect(seen.size).toBe(3000);
  });

  it('gives a request larger than the pool its own bytes', () => {
    const value = decoded(randomBase64url(10_000));
    expect(value).toHaveLength(10_000);
    // All-zero (an unfilled buffer) or a repeating block would show as few distinct 16-byte chunks.
    const chunks = new Set(Array.from({ length: 625 }, (_, i) => value.subarray(i * 16, i * 16 + 16).toString('hex')));
    expect(chunks.size).toBe(625);
  });

  it('refuses a count that is not a positive whole number', () => {
    for (const bytes of [0, -1, 1.5, Number.NaN]) expect(() => randomBase64url(bytes)).toThrow(RangeError);
  });
});
