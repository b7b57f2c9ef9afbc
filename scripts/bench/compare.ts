/**
 * Tessera against panva's oidc-provider, scenario by scenario, over loopback HTTP. Each issuer
 * runs in a child process of its own (so its CPU time and memory are its own, read from /proc);
 * this process is the load generator: 8 virtual users, closed loop, contenders interleaved
 * (A, B, A, B …) over several repetitions so machine noise hits them alike.
 *
 *   npm run bench -- compare            # writes scripts/bench/results.md and results.svg
 *   npm run bench -- compare --quick    # CI: short, one repetition, fails only on errors
 *   npm run bench -- compare --only=jwks,sign-in
 *   npm run bench -- compare --workers  # and Tessera with TESSERA_WORKERS=2 on the SSO, grant and sign-in scenarios
 *   npm run bench -- compare --baseline=DIR  # and the build of another checkout (every scenario but JWKS revalidation)
 *
 * BENCH_MS (window per contender and repetition, default 5000) and BENCH_ROUNDS (repetitions,
 * default 5) lengthen or shorten a full run. The goal (docs/architecture.md, "Performance
 * goals"): Tessera ≥ 1.5× oidc-provider; sign-in ≥ 0.9× the raw argon2id rate. Those ratios are one
 * process against one process; `--workers` adds "Tessera, 2 workers", compared with Tessera only.
 *
 * oidc-provider runs twice: with the in-memory adapter (the reference every ratio is taken
 * against) and with a SQLite adapter as durable as Tessera's store (lib/sqlite-adapter.ts), on the
 * scenarios that keep state (SSO, grants, sign-in), so the cost of durable writes shows on both sides.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BENCH_PASSWORD, BENCH_RESOURCE } from './lib/constants.js';
import { HttpClient, expect } from './lib/http.js';
import {
  type Code,
  type IssuerUnderTest,
  authorize,
  freshJar,
  oidcProviderUnderTest,
  redeem,
  rotate,
  tesseraUnderTest,
} from './lib/issuers.js';
import {
  type Operation,
  type Window,
  drive,
  median,
  percentile,
  sampleProcess,
  sampleProcessTree,
} from './lib/load.js';
import { REPO, TSX, freePort, logPath, startServer, type ServerProcess } from './lib/processes.js';
import { FROM_SOURCES_FLAG, tesseraStartPath } from './lib/start-path.js';
import { seedTessera, startTessera } from './lib/tessera.js';
import { ratioChart } from './lib/chart.js';
import { mdTable } from './lib/markdown.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** Adds Tessera with TESSERA_WORKERS=2 to the SSO, grant and sign-in scenarios. */
const workers = args.includes('--workers');
const CLUSTER = 'Tessera, 2 workers';
/** oidc-provider keeping its models in SQLite (lib/sqlite-adapter.ts) rather than in memory. */
const DURABLE_PEER = 'oidc-provider, SQLite adapter';
/**
 * Another checkout of Tessera, built (its `idp/dist`), added to the SSO, grant and sign-in scenarios: a
 * change measured before and after in one run, under the same load.
 */
const baselineDir = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
const BASELINE = 'Tessera, baseline';
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const MS = quick ? 700 : Number(process.env.BENCH_MS ?? 5000);
const REPS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = quick ? 200 : 1000;
const USERS = 8;
// results.md is the last full run: a quick or partial one writes elsewhere, never over it.
const out = quick || only ? join(REPO, 'test-artifacts/bench') : join(REPO, 'scripts/bench');

const dir = mkdtempSync(join(tmpdir(), 'tessera-compare-'));
const servers: ServerProcess[] = [];
const say = (s: string) => process.stdout.write(`${s}\n`);

/** A window a contender runs in a process of its own, with what that process spent (CPU in µs, RSS in bytes). */
type OwnWindow = Window & { cpuMicros: number; mainThreadMicros: number; rssBefore: number; rssAfter: number };

/** One contender of a scenario: a server (or the raw argon2id child) and what each user does. */
interface Contender {
  name: string;
  server?: ServerProcess;
  http?: HttpClient;
  op?: Operation;
  /** Before each window of `ms` (untimed): refill pools. */
  before?: (ms: number) => Promise<void>;
  /** Runs the whole window itself, in another process (the raw argon2id reference). */
  window?: (ms: number) => Promise<OwnWindow>;
  note?: string;
  /** A server of several processes: its cost is that of all of them. */
  cluster?: boolean;
  /** Another build of Tessera (--baseline), compared with this one only. */
  baseline?: boolean;
}

interface Scenario {
  id: string;
  title: string;
  /** What one operation is. */
  op: string;
  contenders: Contender[];
}

interface Row {
  scenario: Scenario;
  contender: Contender;
  rates: number[];
  latencies: number[];
  cpuPerOp: number[];
  /** The system (kernel) part of the server's CPU, a fraction. */
  systemShare: number[];
  /** The part of the server's CPU its main thread spent (the event loop; libuv's pool apart), a fraction. */
  eventLoopShare: number[];
  /** The server's write system calls (files and sockets) per operation, and the bytes they wrote. */
  writesPerOp: number[];
  bytesPerOp: number[];
  requestsPerOp: number;
  rssBefore: number;
  rssAfter: number;
  errors: number;
  errorSamples: string[];
}

/** Whether a column has a figure: none for the raw argon2id process, nor where /proc cannot be read. */
const known = (xs: number[]): boolean => xs.length > 0 && Number.isFinite(median(xs));

/**
 * A copy of a SQLite database: the file and, when there is one, its WAL, which may still hold the
 * last commits (the seeding's store may close while its checkpoint thread has not let go).
 */
function copyDatabase(from: string, to: string): void {
  copyFileSync(from, to);
  if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
}

async function main(): Promise<number> {
  // ---- Servers ----
  const start = tesseraStartPath(args.includes(FROM_SOURCES_FLAG));
  say(`Tessera: ${start.why}`);
  const tesseraDb = join(dir, 'tessera.db');
  const { secret } = await seedTessera(tesseraDb, USERS);
  // The cluster's database is a copy of the seeded one, made before any issuer created keys in it.
  const clusterDb = join(dir, 'tessera-cluster.db');
  if (workers) copyDatabase(tesseraDb, clusterDb);
  const baselineDb = join(dir, 'tessera-baseline.db');
  if (baselineDir) copyDatabase(tesseraDb, baselineDb);
  const tesseraServer = await startTessera({
    database: tesseraDb,
    port: await freePort(),
    logDir: dir,
    compiled: start.compiled,
  });
  servers.push(tesseraServer);
  const clusterServer = workers
    ? await startTessera({
        database: clusterDb,
        port: await freePort(),
        logDir: dir,
        name: CLUSTER,
        workers: 2,
        compiled: start.compiled,
      })
    : undefined;
  if (clusterServer) servers.push(clusterServer);
  const baselineServer = baselineDir
    ? await startTessera({
        database: baselineDb,
        port: await freePort(),
        logDir: dir,
        name: BASELINE,
        compiled: true,
        entry: join(resolve(baselineDir), 'idp/dist/main.js'),
      })
    : undefined;
  if (baselineServer) servers.push(baselineServer);
  /** oidc-provider in a process of its own; `env` adds to what every peer is given. */
  const startPeer = async (name: string, log: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const server = await startServer({
      name,
      args: [...TSX, join(REPO, 'scripts/bench/peers/oidc-provider.ts')],
      env: { PORT: String(port), BENCH_CLIENT_SECRET: secret, BENCH_USERS: String(USERS), BENCH_PASSWORD, ...env },
      origin: `http://127.0.0.1:${port}`,
      readyPath: '/.well-known/openid-configuration',
      logFile: logPath(dir, log),
    });
    servers.push(server);
    return server;
  };
  const providerServer = await startPeer('oidc-provider', 'oidc-provider');
  const durableServer = await startPeer(DURABLE_PEER, 'oidc-provider-sqlite', {
    BENCH_DATABASE: join(dir, 'oidc-provider.db'),
  });
  const tessera = tesseraUnderTest(new HttpClient(tesseraServer.origin));
  const provider = oidcProviderUnderTest(new HttpClient(providerServer.origin));
  const durablePeer = { ...oidcProviderUnderTest(new HttpClient(durableServer.origin)), name: DURABLE_PEER };
  const cluster = clusterServer && { ...tesseraUnderTest(new HttpClient(clusterServer.origin)), name: CLUSTER };
  const baseline = baselineServer && {
    ...tesseraUnderTest(new HttpClient(baselineServer.origin)),
    name: BASELINE,
  };
  const jwksBody = expect('Tessera JWKS', await tessera.http.send('/jwks'), 200).body;
  const floorPort = await freePort();
  const floorServer = await startServer({
    name: 'floor',
    args: [...TSX, join(REPO, 'scripts/bench/peers/floor.ts')],
    env: { PORT: String(floorPort), JWKS: jwksBody },
    origin: `http://127.0.0.1:${floorPort}`,
    readyPath: '/',
    logFile: logPath(dir, 'floor'),
  });
  servers.push(floorServer);
  const floor = new HttpClient(floorServer.origin);
  const servedBy = new Map<IssuerUnderTest, ServerProcess>([
    [provider, providerServer],
    [durablePeer, durableServer],
    [tessera, tesseraServer],
  ]);
  if (cluster) servedBy.set(cluster, clusterServer!);
  if (baseline) servedBy.set(baseline, baselineServer!);
  const serverOf = (i: IssuerUnderTest) => servedBy.get(i)!;

  // ---- Each user signs in once at each issuer: a browser with a session, and a refresh token ----
  const sides = [provider, tessera];
  /**
   * The sides of the SSO, grant and sign-in scenarios: oidc-provider on SQLite too, and the cluster and
   * the baseline when asked for.
   */
  const grantSides = [provider, durablePeer, tessera, ...(cluster ? [cluster] : []), ...(baseline ? [baseline] : [])];
  const jars = new Map(grantSides.map((s) => [s, Array.from({ length: USERS }, freshJar)]));
  const refreshTokens = new Map<IssuerUnderTest, string[]>();
  for (const side of grantSides) {
    const tokens = [];
    for (let u = 0; u < USERS; u++)
      tokens.push(await redeem(side, secret, await authorize(side, jars.get(side)![u]!, u)));
    // Comparable work: both answer with an ES256 ID token and an ES256 JWT access token for the API.
    const part = (jwt: string, i: number) =>
      JSON.parse(Buffer.from(jwt.split('.')[i] ?? '', 'base64url').toString() || '{}') as Record<string, unknown>;
    const { access_token, id_token } = tokens[0]!;
    const [at, claims] = [part(access_token, 0), part(access_token, 1)];
    const audience = ([] as unknown[]).concat(claims.aud);
    if (
      at.alg !== 'ES256' ||
      !/at\+jwt/i.test(String(at.typ)) ||
      !audience.includes(BENCH_RESOURCE) ||
      part(id_token, 0).alg !== 'ES256'
    )
      throw new Error(`${side.name} did not issue ES256 JWT access tokens for the API and ES256 ID tokens`);
    refreshTokens.set(
      side,
      tokens.map((t) => t.refresh_token),
    );
  }

  // ---- Scenarios ----
  const etags = new Map<IssuerUnderTest, string | undefined>();
  for (const side of sides) {
    const e = (await side.http.send('/jwks')).headers.etag;
    etags.set(side, typeof e === 'string' ? e : undefined);
  }
  const get =
    (http: HttpClient, path: string, status: number, headers: Record<string, string> = {}): Operation =>
    async () => {
      expect(path, await http.send(path, { headers }), status);
    };
  const visit =
    (side: IssuerUnderTest): Operation =>
    async (u) => {
      await redeem(side, secret, await authorize(side, jars.get(side)![u]!, u));
    };
  // Codes are made before each window (by SSO visits, untimed) so only /token is timed; a window
  // that empties its pool ends early, which the rate accounts for.
  const pools = new Map<IssuerUnderTest, Code[]>(grantSides.map((s) => [s, []]));
  const codeRate = new Map<IssuerUnderTest, number>(grantSides.map((s) => [s, 1000]));
  const fillCodes = (side: IssuerUnderTest) => async (ms: number) => {
    const pool: Code[] = [];
    const want = Math.ceil((ms / 1000) * codeRate.get(side)! * 1.5);
    await Promise.all(
      Array.from({ length: USERS }, async (_, u) => {
        while (pool.length < want) pool.push(await authorize(side, jars.get(side)![u]!, u));
      }),
    );
    pools.set(side, pool);
  };
  /** Sizes the next pool from the rate just seen, so no window runs dry and none waits long for its codes. */
  const learnCodeRate = (scenario: Scenario, c: Contender, w: Window) => {
    const side = grantSides.find((s) => s.name === c.name);
    if (scenario.id === 'code-grant' && side && w.ops > 0) codeRate.set(side, Math.max(200, w.ops / w.seconds));
  };
  const redeemCode =
    (side: IssuerUnderTest): Operation =>
    async () => {
      const c = pools.get(side)!.pop();
      if (!c) return 'exhausted';
      await redeem(side, secret, c);
      return undefined;
    };
  // Each user rotates its own family, so no token is ever presented twice (both would rightly see reuse).
  const rotateOwn =
    (side: IssuerUnderTest): Operation =>
    async (u) => {
      const tokens = refreshTokens.get(side)!;
      tokens[u] = (await rotate(side, secret, tokens[u]!)).refresh_token;
    };
  const signIn =
    (side: IssuerUnderTest): Operation =>
    async (u) => {
      await authorize(side, freshJar(), u);
    };
  const of = (side: IssuerUnderTest, op: Operation, extra: Partial<Contender> = {}): Contender => ({
    name: side.name,
    server: serverOf(side),
    http: side.http,
    op,
    ...(side === cluster ? { cluster: true } : {}),
    ...(side === baseline ? { baseline: true } : {}),
    ...extra,
  });
  const rawArgon2: Contender = {
    name: 'argon2id verify alone',
    note: 'in a process of its own, 8 in flight',
    window: (ms) => argon2Window(ms),
  };

  const scenarios: Scenario[] = [
    {
      id: 'jwks',
      title: 'JWKS (200)',
      op: 'GET /jwks',
      contenders: [
        of(provider, get(provider.http, '/jwks', 200)),
        of(tessera, get(tessera.http, '/jwks', 200)),
        ...(baseline ? [of(baseline, get(baseline.http, '/jwks', 200))] : []),
        {
          name: 'floor: bare node:http, precomputed buffer',
          server: floorServer,
          http: floor,
          op: get(floor, '/jwks', 200),
        },
      ],
    },
    {
      id: 'jwks-304',
      title: 'JWKS revalidation (If-None-Match)',
      op: 'GET /jwks with the ETag',
      contenders: sides.map((side) => {
        const etag = etags.get(side);
        return etag
          ? of(side, get(side.http, '/jwks', 304, { 'if-none-match': etag }))
          : of(side, get(side.http, '/jwks', 200, { 'if-none-match': '"x"' }), {
              note: 'sends no ETag, so answers 200 with the body',
            });
      }),
    },
    {
      id: 'discovery',
      title: 'Discovery',
      op: 'GET /.well-known/openid-configuration',
      contenders: [...sides, ...(baseline ? [baseline] : [])].map((side) =>
        of(side, get(side.http, '/.well-known/openid-configuration', 200)),
      ),
    },
    {
      id: 'sso-visit',
      title: 'SSO visit',
      op: 'authorize with a session cookie → code → token',
      contenders: grantSides.map((side) => of(side, visit(side))),
    },
    {
      id: 'code-grant',
      title: 'authorization_code grant',
      op: 'POST /token (code, PKCE, client_secret_basic) → access, ID and refresh token',
      contenders: grantSides.map((side) => of(side, redeemCode(side), { before: fillCodes(side) })),
    },
    {
      id: 'refresh',
      title: 'refresh_token grant (rotating)',
      op: 'POST /token (refresh_token) → access, ID and new refresh token',
      contenders: grantSides.map((side) => of(side, rotateOwn(side))),
    },
    {
      id: 'sign-in',
      title: 'Password sign-in',
      op: 'a new browser: authorize → sign-in form → credentials (one argon2id verify) → code',
      contenders: [...grantSides.map((side) => of(side, signIn(side))), rawArgon2],
    },
  ].filter((s) => !only || only.includes(s.id));
  const unknown = only?.filter((id) => !scenarios.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0 || scenarios.length === 0) {
    say(`--only names no scenario: ${unknown.join(', ') || '(none)'}`);
    return 2;
  }

  // ---- Measure ----
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    say(`\n${scenario.title}: ${scenario.op}`);
    const byContender = scenario.contenders.map((contender) => {
      const row: Row = {
        scenario,
        contender,
        rates: [],
        latencies: [],
        cpuPerOp: [],
        systemShare: [],
        eventLoopShare: [],
        writesPerOp: [],
        bytesPerOp: [],
        requestsPerOp: Number.NaN,
        rssBefore: contender.server ? sample(contender).rss : Number.NaN,
        rssAfter: Number.NaN,
        errors: 0,
        errorSamples: [],
      };
      rows.push(row);
      return row;
    });
    // Warm-up (not recorded): the JIT, the connection pools, the database's pages.
    for (const row of byContender) {
      const c = row.contender;
      if (!c.op) continue;
      await c.before?.(WARMUP_MS);
      const w = await drive(USERS, WARMUP_MS, c.op);
      record(row, w, { errorsOnly: true });
      learnCodeRate(scenario, c, w);
    }
    for (let rep = 0; rep < REPS; rep++) {
      for (const row of byContender) {
        const c = row.contender;
        if (c.window) {
          const w = await c.window(MS);
          record(row, w);
          row.cpuPerOp.push(w.cpuMicros / Math.max(1, w.ops));
          row.eventLoopShare.push(w.mainThreadMicros / w.cpuMicros);
          row.requestsPerOp = 0;
          if (Number.isNaN(row.rssBefore)) row.rssBefore = w.rssBefore;
          row.rssAfter = w.rssAfter;
        } else {
          await c.before?.(MS);
          const requests = c.http!.requests;
          const before = sample(c);
          const w = await drive(USERS, MS, c.op!);
          const after = sample(c);
          c.server!.assertAlive();
          record(row, w);
          const ops = Math.max(1, w.ops);
          const cpu = after.cpuMicros - before.cpuMicros;
          row.cpuPerOp.push(cpu / ops);
          row.systemShare.push((after.systemMicros - before.systemMicros) / cpu);
          row.eventLoopShare.push((after.mainThreadMicros - before.mainThreadMicros) / cpu);
          row.writesPerOp.push((after.writeCalls - before.writeCalls) / ops);
          row.bytesPerOp.push((after.writtenBytes - before.writtenBytes) / ops);
          row.requestsPerOp = (c.http!.requests - requests) / Math.max(1, w.ops + w.errors);
          row.rssAfter = after.rss;
          learnCodeRate(scenario, c, w);
        }
        const rate = row.rates.at(-1) ?? 0;
        say(
          `  ${c.name.padEnd(44)} ${rate.toFixed(0).padStart(7)} /s  p50 ${ms(percentile(row.latencies, 50))}  ` +
            `p99 ${ms(percentile(row.latencies, 99))}  cpu ${row.cpuPerOp.at(-1)?.toFixed(0) ?? '-'} µs/op` +
            (row.errors ? `  ERRORS ${row.errors}: ${row.errorSamples[0]}` : ''),
        );
      }
    }
  }

  // ---- Report ----
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const markdown = report(rows, start.why);
  const chart = ratioChart(
    scenarios
      .map((s) => {
        const t = rows.find((r) => r.scenario === s && r.contender.name === 'Tessera');
        const p = rows.find((r) => r.scenario === s && r.contender.name === 'oidc-provider');
        return { label: s.title, ratio: t && p ? median(t.rates) / median(p.rates) : Number.NaN };
      })
      .filter((b) => Number.isFinite(b.ratio)),
    {
      goal: 1.5,
      title: 'Tessera ÷ oidc-provider, median throughput per scenario (higher is better)',
      subtitle:
        `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ` +
        `load average ${loadavg()[0]!.toFixed(1)}${quick ? ', --quick' : ''}: details in results.md`,
    },
  );
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.md'), markdown);
  writeFileSync(join(out, 'results.svg'), chart);
  say(`\nWrote ${relative(REPO, join(out, 'results.md'))} and results.svg`);
  if (errors) say(`\n${errors} operations failed: the run does not count.`);
  return errors ? 1 : 0;
}

/** What a contender's server has used so far: every process of a cluster. */
function sample(c: Contender) {
  return c.cluster ? sampleProcessTree(c.server!.pid) : sampleProcess(c.server!.pid);
}

function record(row: Row, w: Window, options: { errorsOnly?: boolean } = {}): void {
  row.errors += w.errors;
  for (const e of w.errorSamples) if (row.errorSamples.length < 3) row.errorSamples.push(e);
  if (options.errorsOnly) return;
  // A measured window in which nothing completed measured nothing: the run must not pass as if it had.
  if (w.ops === 0 && w.errors === 0) {
    row.errors++;
    if (row.errorSamples.length < 3) row.errorSamples.push('no operation completed in the window');
  }
  row.rates.push(w.ops / w.seconds);
  for (const l of w.latencies) row.latencies.push(l);
}

/** One window of raw argon2id verifications, in a child process. */
function argon2Window(ms: number): Promise<OwnWindow> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TSX, join(REPO, 'scripts/bench/peers/argon2-raw.ts')], {
      cwd: REPO,
      env: { ...process.env, MS: String(ms), CONCURRENCY: String(USERS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`argon2id reference exited with ${code}`));
      resolve(JSON.parse(stdout));
    });
  });
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '-').padStart(9);
const mb = (x: number) => (Number.isFinite(x) ? `${(x / 2 ** 20).toFixed(0)} MB` : 'n/a');

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

function report(rows: Row[], startPath: string): string {
  const cpu = cpus();
  const lines = [
    '# Tessera against oidc-provider',
    '',
    `Written by \`npm run bench -- compare${quick ? ' --quick' : ''}\` on ${new Date().toISOString()}. Ratios are`,
    'what to compare; absolute numbers belong to this machine and its load at the time.',
    '',
    '## Machine and versions',
    '',
    mdTable(
      ['', ''],
      [
        ['CPU', `${cpu[0]?.model ?? '?'}, ${cpu.length} logical cores`],
        ['memory', `${mb(totalmem())} (${mb(freemem())} free at the end)`],
        [
          'load average at the end (1, 5, 15 min)',
          loadavg()
            .map((l) => l.toFixed(2))
            .join(', '),
        ],
        ['Node.js', process.version],
        ['Tessera', startPath],
        [
          'oidc-provider',
          `${packageVersion('oidc-provider')} (in-memory adapter, scripts/bench/peers/oidc-provider.ts)`,
        ],
        [
          'hono, @hono/node-server, better-sqlite3, jose, @node-rs/argon2',
          ['hono', '@hono/node-server', 'better-sqlite3', 'jose', '@node-rs/argon2'].map(packageVersion).join(', '),
        ],
        [
          'load',
          `${USERS} virtual users, closed loop, keep-alive; ${REPS} repetition(s) of ${MS} ms per contender, ` +
            `interleaved, after a ${WARMUP_MS} ms warm-up`,
        ],
      ],
    ),
    '',
    'Rate: operations per second, median of the repetitions (min–max). Latency: p50 and p99 of',
    'every operation of every repetition. Server CPU: user + system time of the server process',
    "(/proc) over the window, per operation; of it, the kernel's part and the main thread's (the",
    "event loop, as against libuv's pool and V8's helper threads). RSS: the server process before",
    'the warm-up and after the last repetition.',
    ...(workers ? [`For ${CLUSTER}: the primary and its workers together.`] : []),
    '',
    '![Tessera ÷ oidc-provider per scenario](results.svg)',
    '',
  ];
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  for (const s of scenarios) {
    const mine = rows.filter((r) => r.scenario === s);
    const ref = mine.find((r) => r.contender.name === 'oidc-provider');
    lines.push(`## ${s.title}`, '', `One operation: ${s.op}.`, '');
    const cells = mine.map((r) => {
      const rate = median(r.rates);
      // Per core: the cluster is compared with Tessera alone, below, never with oidc-provider.
      const perCore = ref && !r.contender.cluster && !r.contender.baseline;
      const error = r.errorSamples[0]?.replaceAll('|', '\\|').replace(/\s+/g, ' ');
      return [
        `${r.contender.name}${r.contender.note ? ` (${r.contender.note})` : ''}`,
        `${rate.toFixed(0)} (${Math.min(...r.rates).toFixed(0)}–${Math.max(...r.rates).toFixed(0)})`,
        perCore ? `${(rate / median(ref.rates)).toFixed(2)}×` : '',
        ms(percentile(r.latencies, 50)).trim(),
        ms(percentile(r.latencies, 99)).trim(),
        median(r.cpuPerOp).toFixed(0),
        known(r.systemShare) ? `${(median(r.systemShare) * 100).toFixed(0)} %` : '–',
        known(r.eventLoopShare) ? `${(median(r.eventLoopShare) * 100).toFixed(0)} %` : '–',
        known(r.writesPerOp)
          ? `${median(r.writesPerOp).toFixed(1)} (${(median(r.bytesPerOp) / 1024).toFixed(1)} KiB)`
          : '–',
        r.requestsPerOp ? r.requestsPerOp.toFixed(1) : '–',
        `${mb(r.rssBefore)} → ${mb(r.rssAfter)}`,
        `${r.errors}${error ? `: ${error}` : ''}`,
      ];
    });
    lines.push(
      mdTable(
        [
          'contender',
          'ops/s median (min–max)',
          '÷ oidc-provider',
          'p50',
          'p99',
          'server CPU µs/op',
          'of it system',
          'of it event loop',
          'server write calls/op (bytes)',
          'HTTP requests/op',
          'RSS before → after',
          'errors',
        ],
        cells,
      ),
    );
    const raw = mine.find((r) => r.contender.window);
    const t = mine.find((r) => r.contender.name === 'Tessera');
    const clustered = mine.find((r) => r.contender.cluster);
    if (clustered && t)
      lines.push(
        '',
        `${CLUSTER} ÷ Tessera (one process): ${(median(clustered.rates) / median(t.rates)).toFixed(2)}× the rate, ` +
          `${(median(clustered.cpuPerOp) / median(t.cpuPerOp)).toFixed(2)}× the server CPU per operation ` +
          '(primary and workers together).',
      );
    const durable = mine.find((r) => r.contender.name === DURABLE_PEER);
    if (durable && t)
      lines.push(
        '',
        `Tessera ÷ ${DURABLE_PEER}: ${(median(t.rates) / median(durable.rates)).toFixed(2)}× the rate, ` +
          `${(median(t.cpuPerOp) / median(durable.cpuPerOp)).toFixed(2)}× the server CPU per operation.`,
      );
    const before = mine.find((r) => r.contender.baseline);
    if (before && t)
      lines.push(
        '',
        `Tessera ÷ ${BASELINE} (${baselineDir}): ${(median(t.rates) / median(before.rates)).toFixed(2)}× the rate, ` +
          `${(median(t.cpuPerOp) / median(before.cpuPerOp)).toFixed(2)}× the server CPU per operation.`,
      );
    if (raw && t)
      lines.push(
        '',
        'Tessera sign-ins ÷ raw argon2id verifications: ' +
          `${(median(t.rates) / median(raw.rates)).toFixed(2)}× (goal ≥ 0.9×).`,
      );
    lines.push('');
  }
  return lines.join('\n');
}

let code = 1;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`compare: ${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
