import { describe, expect, it } from 'vitest';
import { createTestClock } from '../../test/support/clock.js';
import { nowSec } from '../../test/support/issuer.js';
import { createMemoryJtiStore } from './jti-store.js';

describe('createMemoryJtiStore', () => {
  it('refuses a jti seen before it expires', () => {
    const store = createMemoryJtiStore();
    expect(store.consume('a', nowSec() + 60)).toBe(true);
    expect(store.consume('a', nowSec() + 60)).toBe(false);
  });

  it('forgets a jti once its token has expired', () => {
    const clock = createTestClock();
    const store = createMemoryJtiStore({ now: clock });
    const exp = Math.floor(clock() / 1000) + 60;
    store.consume('a', exp);
    clock.advance(61);
    expect(store.consume('a', exp + 120)).toBe(true);
  });

  it('keeps no more than maxEntries, dropping the oldest first', () => {
    const store = createMemoryJtiStore({ maxEntries: 2 });
    const exp = nowSec() + 60;
    store.consume('a', exp);
    store.consume('b', exp);
    store.consume('c', exp);
    expect(store.consume('b', exp)).toBe(false);
    expect(store.consume('a', exp)).toBe(true);
  });
});
