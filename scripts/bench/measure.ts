/** A small side-by-side timer: runs each contender in turn, several rounds, and reports medians. */

export interface Result {
  name: string;
  /** Median over the rounds, operations per second (of wall time, or of CPU time with `clock: 'cpu'`). */
  opsPerSec: number;
  /** This contender's rate over the reference's (the first contender's) in the same round, per round, sorted. */
  ratios: number[];
}

/** What a rate is per: wall time, or the CPU time of this process (user + system, all its threads). */
export type BenchClock = 'wall' | 'cpu';

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
};

/** Runs `fn` repeatedly for `ms` milliseconds, `concurrency` calls in flight; returns ops/s. */
export async function rate(
  fn: (i: number) => Promise<unknown> | unknown,
  ms: number,
  concurrency = 1,
  clock: BenchClock = 'wall',
): Promise<number> {
  let done = 0;
  let i = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn(i++);
        done++;
      }
    }),
  );
  return done / (clock === 'cpu' ? cpuSeconds(cpuStart) : (performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Interleaves the contenders over `rounds` rounds so machine noise hits them alike. With
 * `rotate`, each round starts one contender later, so none always runs right after the same one.
 */
export async function compare(
  contenders: {
    name: string;
    fn: (i: number) => Promise<unknown> | unknown;
    concurrency?: number;
    before?: () => Promise<void>;
  }[],
  opts: { ms: number; rounds: number; clock?: BenchClock; rotate?: boolean },
): Promise<Result[]> {
  const samples = contenders.map((): number[] => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = opts.rotate ? (k + r) % contenders.length : k;
      const c = contenders[index]!;
      await c.before?.();
      samples[index]!.push(await rate(c.fn, opts.ms, c.concurrency ?? 1, opts.clock));
    }
  }
  const reference = samples[0]!;
  return contenders.map((c, index) => ({
    name: c.name,
    opsPerSec: median(samples[index]!),
    ratios: samples[index]!.map((s, r) => s / reference[r]!).sort((a, b) => a - b),
  }));
}

/**
 * Prints a table with each result's ratio to the first (the reference): the median of the
 * per-round ratios, and their range when there are several rounds. `goals` maps a contender's
 * name to the least ratio it should reach, printed as met or not met next to it.
 */
export function report(title: string, results: Result[], goals: Readonly<Record<string, number>> = {}): void {
  process.stdout.write(`\n${title}\n`);
  for (const r of results) {
    const ratio = median(r.ratios);
    const range = r.ratios.length > 1 ? ` (${r.ratios[0]!.toFixed(2)}–${r.ratios.at(-1)!.toFixed(2)})` : '';
    const goal = goals[r.name];
    // Judged and shown to three places, so that a 0.897 printed as 0.90 is not read as met.
    const verdict =
      goal === undefined ? '' : `   goal ≥ ${goal}×: ${ratio >= goal ? 'met' : 'NOT met'} (${ratio.toFixed(3)}×)`;
    process.stdout.write(
      `  ${r.name.padEnd(58)} ${r.opsPerSec.toFixed(0).padStart(9)} /s   ${ratio.toFixed(2)}×${range}${verdict}\n`,
    );
  }
}

export const BENCH_MS = Number(process.env.BENCH_MS ?? 1500);
export const BENCH_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
