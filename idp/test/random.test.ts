/** Secrets and identifiers from the pooled CSPRNG bytes: the right size, and never a byte handed out twice. */
import { describe, expect, it } from 'vitest';
import { randomId, randomSecret } from '../src/crypto/random.js';

describe('random secrets and identifiers', () => {
  it('are base64url of 256 and 128 bits by default, and of any size asked for', () => {
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(randomSecret(24), 'base64url')).toHaveLength(24);
    // Larger than the pool: taken straight from the CSPRNG.
    expect(Buffer.from(randomSecret(5000), 'base64url')).toHaveLength(5000);
  });

  it('never repeats across many refills of the pool', () => {
    const seen = new Set<string>();
    // 20,000 values of 16 and 32 bytes: more than a hundred refills of the 4 KiB pool.
    for (let i = 0; i < 10_000; i++) {
      seen.add(randomId());
      seen.add(randomSecret());
    }
    expect(seen.size).toBe(20_000);
  });
});
