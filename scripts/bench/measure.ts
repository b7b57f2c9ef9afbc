/** A small side-by-side timer: runs each contender in turn, several rounds, and reports medians. */

export interface Result {
  name: string;
  opsPerSec: number;
}

/** Runs `fn` repeatedly for `ms` milliseconds, `concurrency` calls in flight; returns ops/s. */
export async function rate(
  fn: (i: number) => Promise<unknown> | unknown,
  ms: number,
  concurrency = 1,
): Promise<number> {
  let done = 0;
  let i = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn(i++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Interleaves the contenders over `rounds` rounds so machine noise hits them alike. */
export async function compare(
  contenders: {
    name: string;
    fn: (i: number) => Promise<unknown> | unknown;
    concurrency?: number;
    before?: () => Promise<void>;
  }[],
  opts: { ms: number; rounds: number },
): Promise<Result[]> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of contenders) {
      await c.before?.();
      samples.get(c.name)!.push(await rate(c.fn, opts.ms, c.concurrency ?? 1));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return contenders.map((c) => ({ name: c.name, opsPerSec: median(samples.get(c.name)!) }));
}

/** Prints a table with each result's ratio to the first (the reference). */
export function report(title: string, results: Result[]): void {
  const ref = results[0]!.opsPerSec;
  process.stdout.write(`\n${title}\n`);
  for (const r of results) {
    process.stdout.write(
      `  ${r.name.padEnd(58)} ${r.opsPerSec.toFixed(0).padStart(9)} /s   ${(r.opsPerSec / ref).toFixed(2)}×\n`,
    );
  }
}

export const BENCH_MS = Number(process.env.BENCH_MS ?? 1500);
export const BENCH_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
