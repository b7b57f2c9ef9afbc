/**
 * Closed-loop load: N virtual users, each running one operation after another for a fixed time,
 * with every operation's latency recorded. And what the server process spent meanwhile, read
 * from /proc (Linux): CPU time and resident memory, so a server's cost per operation is its own.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** An operation reports `'exhausted'` when it has nothing left to do (a pool of codes ran dry). */
export type Operation = (user: number) => Promise<undefined | 'exhausted'>;

export interface Window {
  ops: number;
  errors: number;
  /** The first few error messages, to report. */
  errorSamples: string[];
  seconds: number;
  /** Each operation's latency, milliseconds. */
  latencies: number[];
}

/** Past this many errors in one window the server is taken to be down and the window ends. */
const ERROR_LIMIT = 50;

export async function drive(users: number, ms: number, op: Operation): Promise<Window> {
  const w: Window = { ops: 0, errors: 0, errorSamples: [], seconds: 0, latencies: [] };
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: users }, async (_, user) => {
      while (performance.now() < end && w.errors < ERROR_LIMIT) {
        const t = performance.now();
        try {
          if ((await op(user)) === 'exhausted') return;
          w.latencies.push(performance.now() - t);
          w.ops++;
        } catch (e) {
          w.errors++;
          if (w.errorSamples.length < 3) w.errorSamples.push(e instanceof Error ? e.message : String(e));
        }
      }
    }),
  );
  w.seconds = (performance.now() - start) / 1000;
  return w;
}

/** The p-th percentile (0–100) of `xs`, nearest rank. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessSample {
  /** User + system CPU time, microseconds; NaN where /proc is not there. */
  cpuMicros: number;
  /** The system (kernel) part of it, microseconds; NaN where /proc is not there. */
  systemMicros: number;
  /**
   * The part of it spent by the process's main thread, microseconds: a Node process's event loop
   * (JavaScript, the HTTP parser, synchronous SQLite), as against libuv's pool (argon2id, signatures)
   * and V8's helper threads. NaN where /proc is not there.
   */
  mainThreadMicros: number;
  /** Resident set size, bytes; NaN where /proc is not there. */
  rss: number;
  /**
   * Write system calls (`syscw` of /proc/<pid>/io: to files and sockets alike) and the bytes they
   * were given (`wchar`); NaN where /proc/<pid>/io cannot be read. Unlike CPU time, these do not
   * move with the load on the machine: a change in the writes an operation makes shows in one run.
   */
  writeCalls: number;
  writtenBytes: number;
}

/** `syscw` and `wchar` of /proc/<pid>/io. */
function writesOf(pid: number): { writeCalls: number; writtenBytes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return {
      writeCalls: Number(/^syscw:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN),
      writtenBytes: Number(/^wchar:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN),
    };
  } catch {
    return { writeCalls: Number.NaN, writtenBytes: Number.NaN };
  }
}

/**
 * utime, stime, cutime and cstime of a /proc stat line (fields 14–17, counted after the command
 * name, which may hold spaces: state is field 3), in clock ticks.
 */
function statTimes(stat: string): [number, number, number, number] {
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .map(Number) as [number, number, number, number];
}

/** What process `pid` has used so far (its whole life), from /proc/<pid>/stat and status. */
export function sampleProcess(pid: number): ProcessSample {
  return readProcess(pid).sample;
}

/**
 * `pid`'s sample, and the CPU time of its children that have ended and been waited for (cutime and
 * cstime, which include what those children had of theirs): one reading of /proc/<pid>/stat.
 */
function readProcess(pid: number): { sample: ProcessSample; reaped: { cpuMicros: number; systemMicros: number } } {
  const micros = (ticks: number) => (ticks / clockTicks()) * 1e6;
  try {
    const [utime, stime, cutime, cstime] = statTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // The main thread is the task whose id is the process's (proc(5), /proc/<pid>/task).
    const [mainUtime, mainStime] = statTimes(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
    return {
      sample: {
        cpuMicros: micros(utime + stime),
        systemMicros: micros(stime),
        mainThreadMicros: micros(mainUtime + mainStime),
        rss: rssKb * 1024,
        ...writesOf(pid),
      },
      reaped: { cpuMicros: micros(cutime + cstime), systemMicros: micros(cstime) },
    };
  } catch {
    return {
      sample: {
        cpuMicros: Number.NaN,
        systemMicros: Number.NaN,
        mainThreadMicros: Number.NaN,
        rss: Number.NaN,
        writeCalls: Number.NaN,
        writtenBytes: Number.NaN,
      },
      reaped: { cpuMicros: 0, systemMicros: 0 },
    };
  }
}

/** The parent of each process, from /proc/<pid>/stat (field 4); empty where /proc is not there. */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return parentOf;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  return parentOf;
}

/**
 * What process `pid` and every process under it have used so far, added up: a server made of
 * several processes (the issuer's cluster primary and its workers) costs all of them. Processes of
 * the tree that have ended count too, through the process that waited for them: PostgreSQL's
 * postmaster starts a process per connection, and one that a pool closes during a window took its
 * CPU time with it from /proc.
 */
export function sampleProcessTree(pid: number): ProcessSample {
  const parentOf = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  const total: ProcessSample = {
    cpuMicros: 0,
    systemMicros: 0,
    mainThreadMicros: 0,
    rss: 0,
    writeCalls: 0,
    writtenBytes: 0,
  };
  for (const p of tree) {
    const { sample, reaped } = readProcess(p);
    // A process that ended between the two reads counts for nothing rather than spoiling the sum.
    if (p !== pid && Number.isNaN(sample.cpuMicros)) continue;
    total.cpuMicros += sample.cpuMicros + reaped.cpuMicros;
    total.systemMicros += sample.systemMicros + reaped.systemMicros;
    // Each live process's own main thread; an ended child's threads are no longer told apart.
    total.mainThreadMicros += sample.mainThreadMicros;
    total.rss += sample.rss;
    total.writeCalls += sample.writeCalls;
    total.writtenBytes += sample.writtenBytes;
  }
  return total;
}
