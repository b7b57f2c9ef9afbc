import { afterEach, describe, expect, it, vi } from 'vitest';
import { runPeriodically } from './periodic.js';

afterEach(() => vi.useRealTimers());

describe('runPeriodically', () => {
  it('runs the task every interval, never two runs at once', async () => {
    vi.useFakeTimers();
    let runs = 0;
    let release: () => void = () => {};
    const task = runPeriodically(
      100,
      () => {
        runs++;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      () => {},
    );
    await vi.advanceTimersByTimeAsync(350);
    expect(runs).toBe(1); // the first run is still under way: the next three skip
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    task.stop();
  });

  it('reports a failure and tries again at the next interval; after stop() it neither runs nor reports', async () => {
    vi.useFakeTimers();
    const failures: unknown[] = [];
    let fail: (e: Error) => void = () => {};
    let runs = 0;
    const task = runPeriodically(
      100,
      () => {
        runs++;
        return new Promise<void>((_, reject) => {
          fail = reject;
        });
      },
      (e) => failures.push(e),
    );
    await vi.advanceTimersByTimeAsync(100);
    fail(new Error('store busy'));
    await vi.advanceTimersByTimeAsync(100);
    expect(failures).toEqual([new Error('store busy')]);
    expect(runs).toBe(2);
    task.stop();
    fail(new Error('store closed'));
    await vi.advanceTimersByTimeAsync(500);
    expect(failures).toHaveLength(1);
    expect(runs).toBe(2);
  });

  it('never keeps the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const task = runPeriodically(
      1000,
      async () => {},
      () => {},
    );
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    task.stop();
    spy.mockRestore();
  });
});
