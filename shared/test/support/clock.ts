/** A clock tests move by hand. */
export interface TestClock {
  (): number;
  advance(seconds: number): void;
}

export function createTestClock(start = Date.now()): TestClock {
  let current = start;
  return Object.assign(() => current, {
    advance(seconds: number) {
      current += seconds * 1000;
    },
  });
}
