/**
 * Self time of a `node --cpu-prof` profile (BENCH_CPU_PROF_DIR, README.md), by function and by
 * module, as Markdown: where a server spends its CPU, without a flame-graph viewer. Self time is
 * what a function ran itself, not what it called; "(program)" is V8 and native work no JavaScript
 * frame is on (the HTTP parser, libuv, compiling), "(garbage collector)" the collector's share;
 * "(idle)", the event loop waiting, is left out.
 *
 *   node --import tsx scripts/bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top=30]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Where a frame's code lives: a package, a workspace file, node's own modules, or V8. */
export function moduleOf(url: string, functionName: string): string {
  // V8's own pseudo-frames ((program), (garbage collector)) and native functions have no URL.
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  return path.startsWith(REPO) ? relative(REPO, path) : path;
}

/** Microseconds of self time per node id, from the samples and their time deltas. */
function selfTimes(p: Profile): Map<number, number> {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  return self;
}

export function summarize(profiles: Profile[], top: number): string {
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    for (const [id, us] of selfTimes(p)) {
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
      const module = moduleOf(url, functionName);
      // Waiting is not work: idle samples stay out of every share.
      if (module === '(idle)') continue;
      const fn = `${functionName || '(anonymous)'} ${module}${url ? `:${lineNumber + 1}` : ''}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      byModule.set(module, (byModule.get(module) ?? 0) + us);
      total += us;
    }
  }
  const table = (title: string, m: Map<string, number>) => {
    const rows = [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [
      `| ${title} | self ms | % |`,
      '| --- | ---: | ---: |',
      ...rows.map(([k, us]) => `| \`${k}\` | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} |`),
    ].join('\n');
  };
  return [
    `${profiles.length} profile(s), ${(total / 1000).toFixed(0)} ms sampled.`,
    '',
    table('module', byModule),
    '',
    table('function', byFunction),
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice('--top='.length) ?? 30);
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length === 0) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile>… [--top=30]\n');
    process.exit(2);
  }
  process.stdout.write(
    summarize(
      files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile),
      top,
    ),
  );
}
