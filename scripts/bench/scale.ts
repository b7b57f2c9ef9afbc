/**
 * Growth: how Tessera behaves as its database grows from 10,000 to 1,000,000 people. For each
 * size N a fresh SQLite file gets N people, each with an SSO session, a grant and a refresh
 * token, written by bulk SQL in one transaction (the issuer's own API seeds the client, the API
 * and the first people; the rest copy the first person's argon2id hash, which costs the same to
 * verify). Then one issuer per size starts on its file, each in its own process, all at once, and
 * 8 virtual users run SSO visits on random sessions, refresh-token rotations of random families
 * and password sign-ins as random people: for each operation, windows of every size in turn
 * (in alternating order), repeated, so the machine's changing load falls on every size alike.
 * Reported per size: seeding time, database size, the issuer's RSS (and peak), and each
 * operation's rate, p50/p99 latency and issuer CPU time per operation; and the largest size
 * against the smallest.
 *
 *   npm run bench -- scale                    # 10,000 and 1,000,000 (long: minutes, up to ~2 GB of temporary disk)
 *   npm run bench -- scale --small            # 1,000 and 10,000, to check the harness
 *   npm run bench -- scale --sizes=10000,100000
 *
 * BENCH_MS sets each window (default 8000; --small: 1500), BENCH_ROUNDS the windows per size and
 * operation (default 3; --small: 2). */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { openStore, sqliteOf } from '@tessera/idp';
import { BENCH_CLIENT, BENCH_RESOURCE, BENCH_SCOPE, benchEmail } from './lib/constants.js';
import { CookieJar, HttpClient } from './lib/http.js';
import { authorize, freshJar, redeem, rotate, tesseraUnderTest } from './lib/issuers.js';
import { type Operation, type Window, drive, median, percentile, sampleProcess } from './lib/load.js';
import { mdTable } from './lib/markdown.js';
import { REPO, freePort } from './lib/processes.js';
import { FROM_SOURCES_FLAG, tesseraStartPath } from './lib/start-path.js';
import { seedTessera, startTessera } from './lib/tessera.js';

const args = process.argv.slice(2);
const small = args.includes('--small');
const sizesArg = args.find((a) => a.startsWith('--sizes='))?.slice('--sizes='.length);
const sizes = sizesArg ? sizesArg.split(',').map(Number) : small ? [1_000, 10_000] : [10_000, 1_000_000];
const MS = Number(process.env.BENCH_MS ?? (small ? 1500 : 8000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (small ? 2 : 3));
const USERS = 8;
/** People seeded through the issuer's API (each with an argon2id hash of its own). */
const API_SEEDED = 8;
const out = small || sizesArg ? join(REPO, 'test-artifacts/bench') : join(REPO, 'scripts/bench');
const say = (s: string) => process.stdout.write(`${s}\n`);

const b64 = (s: string) => createHash('sha256').update(s).digest('base64url');
/** The cookie secret of seeded session i, and the refresh token of seeded family i; the store keeps their digests. */
const sessionSecret = (i: number) => b64(`scale-session-${i}`);
const refreshSecret = (i: number) => b64(`scale-refresh-${i}`);

/** N people with a session, a grant and a refresh token each, in one transaction. */
async function bulkSeed(file: string, n: number): Promise<void> {
  const store = await openStore(file);
  try {
    const sqlite = sqliteOf(store);
    const hash = (
      sqlite.prepare('select password_hash from users where email = ?').get(benchEmail(0)) as {
        password_hash: string;
      }
    ).password_hash;
    const now = Date.now();
    const user = sqlite.prepare(
      'insert into users (id, email, display_name, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
    );
    const subOf = sqlite.prepare('select id from users where email = ?');
    const session = sqlite.prepare(
      'insert into sso_sessions (id, secret_digest, user_id, auth_time, created_at, last_seen_at, expires_at, ' +
        'user_agent, ip) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const grant = sqlite.prepare(
      'insert into grants (id, client_id, user_id, session_id, scope, resource, created_at, expires_at, offline) ' +
        'values (?, ?, ?, ?, ?, ?, ?, ?, 0)',
    );
    const refresh = sqlite.prepare(
      'insert into refresh_tokens (digest, grant_id, created_at, expires_at) values (?, ?, ?, ?)',
    );
    sqlite.transaction(() => {
      for (let i = 0; i < n; i++) {
        let sub: string;
        if (i < API_SEEDED) sub = (subOf.get(benchEmail(i)) as { id: string }).id;
        else {
          sub = `scale-user-${i}`;
          user.run(sub, benchEmail(i), `Bench ${i}`, hash, now, now);
        }
        session.run(
          `scale-session-${i}`,
          b64(sessionSecret(i)),
          sub,
          now,
          now,
          now,
          now + 12 * 3600_000,
          'bench',
          '127.0.0.1',
        );
        grant.run(
          `scale-grant-${i}`,
          BENCH_CLIENT,
          sub,
          `scale-session-${i}`,
          BENCH_SCOPE,
          BENCH_RESOURCE,
          now,
          now + 30 * 86400_000,
        );
        refresh.run(b64(refreshSecret(i)), `scale-grant-${i}`, now, now + 7 * 86400_000);
      }
    })();
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await store.close();
  }
}

const fileSize = (f: string) => (existsSync(f) ? statSync(f).size : 0);
const dbSize = (f: string) => fileSize(f) + fileSize(`${f}-wal`);
const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MB`;
const msf = (x: number) => `${x.toFixed(1)} ms`;

/** Peak resident set size of process `pid` (VmHWM), bytes; NaN where /proc is not there. */
function peakRss(pid: number): number {
  try {
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** One size: its database, seeded, and the issuer running on it. */
interface Size {
  n: number;
  dir: string;
  file: string;
  secret: string;
  seedSeconds: number;
  dbSeeded: number;
  server?: Awaited<ReturnType<typeof startTessera>>;
  issuer?: ReturnType<typeof tesseraUnderTest>;
  rssStarted: number;
  /** The refresh token each family holds now, once it has rotated (before: `refreshSecret(i)`). */
  families: Map<number, string>;
  nextFamily: number;
  order: number[];
  /** Per operation: each window, and the issuer's CPU time (all, and the system part) per operation in it. */
  windows: Map<string, { w: Window; cpuPerOp: number; systemPerOp: number }[]>;
}

async function seed(n: number): Promise<Size> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const file = join(dir, 'tessera.db');
  const t0 = performance.now();
  const { secret } = await seedTessera(file, API_SEEDED);
  await bulkSeed(file, n);
  const seedSeconds = (performance.now() - t0) / 1000;
  const dbSeeded = dbSize(file);
  say(
    `  ${n.toLocaleString('en')} people, sessions, grants and refresh tokens ` +
      `in ${seedSeconds.toFixed(1)} s: ${mb(dbSeeded)}`,
  );
  // Families are rotated in a shuffled order (random places in the refresh-token index), each
  // from the token it holds now, so the run never presents a token twice however long it lasts.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return {
    n,
    dir,
    file,
    secret,
    seedSeconds,
    dbSeeded,
    rssStarted: Number.NaN,
    families: new Map(),
    nextFamily: 0,
    order,
    windows: new Map(),
  };
}

const OPERATIONS: { name: string; op: (s: Size) => Operation }[] = [
  {
    name: 'SSO visit (random session: authorize → code → token)',
    op: (s) => async () => {
      const i = Math.floor(Math.random() * s.n);
      const jar = new CookieJar().set('tessera_session', sessionSecret(i));
      await redeem(s.issuer!, s.secret, await authorize(s.issuer!, jar, i));
      return undefined;
    },
  },
  {
    name: 'refresh_token grant (random family)',
    op: (s) => async () => {
      // Consecutive picks are distinct families; with n ≥ 1,000 no family is in flight twice.
      const i = s.order[s.nextFamily++ % s.n]!;
      const tokens = await rotate(s.issuer!, s.secret, s.families.get(i) ?? refreshSecret(i));
      s.families.set(i, tokens.refresh_token);
      return undefined;
    },
  },
  {
    name: 'password sign-in (random person)',
    op: (s) => async () => void (await authorize(s.issuer!, freshJar(), Math.floor(Math.random() * s.n))),
  },
];

/** One window of `op` at size `s`, with what the issuer spent in it. */
async function window(s: Size, name: string, op: Operation): Promise<void> {
  const before = sampleProcess(s.server!.pid);
  const w = await drive(USERS, MS, op);
  const after = sampleProcess(s.server!.pid);
  const cpuPerOp = (after.cpuMicros - before.cpuMicros) / Math.max(1, w.ops);
  const systemPerOp = (after.systemMicros - before.systemMicros) / Math.max(1, w.ops);
  s.server!.assertAlive();
  s.windows.set(name, [...(s.windows.get(name) ?? []), { w, cpuPerOp, systemPerOp }]);
  say(
    `  ${s.n.toLocaleString('en').padStart(9)} people ${(w.ops / w.seconds).toFixed(0).padStart(6)} /s  ` +
      `p50 ${msf(percentile(w.latencies, 50))}  p99 ${msf(percentile(w.latencies, 99))}  ` +
      `${cpuPerOp.toFixed(0)} µs CPU/op (${systemPerOp.toFixed(0)} system)` +
      (w.errors ? `  ERRORS ${w.errors}: ${w.errorSamples[0]}` : ''),
  );
}

/** Every repetition's operations of one kind, pooled. */
function pooled(s: Size, name: string) {
  const reps = s.windows.get(name) ?? [];
  return {
    rates: reps.map(({ w }) => w.ops / w.seconds),
    latencies: reps.flatMap(({ w }) => w.latencies),
    cpuPerOp: reps.map((r) => r.cpuPerOp),
    systemPerOp: reps.map((r) => r.systemPerOp),
    errors: reps.reduce((k, { w }) => k + w.errors, 0),
  };
}

const spread = (xs: number[], digits = 0) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

let code = 0;
const running: Size[] = [];
try {
  const start = tesseraStartPath(args.includes(FROM_SOURCES_FLAG));
  say(`Tessera: ${start.why}`);
  say('\nSeeding');
  for (const n of sizes) running.push(await seed(n));
  // All issuers run at once, each on its own database, and the sizes take turns within every
  // repetition (in alternating order), so a change in the machine's load falls on all of them.
  for (const s of running) {
    s.server = await startTessera({
      database: s.file,
      port: await freePort(),
      logDir: s.dir,
      compiled: start.compiled,
    });
    s.issuer = tesseraUnderTest(new HttpClient(s.server.origin));
    s.rssStarted = sampleProcess(s.server.pid).rss;
  }
  for (const { name, op } of OPERATIONS) {
    say(`\n${name}`);
    for (const s of running) await drive(USERS, Math.min(1000, MS / 4), op(s));
    for (let r = 0; r < ROUNDS; r++)
      for (const s of r % 2 ? [...running].reverse() : running) await window(s, name, op(s));
  }
  const results = running.map((s) => ({
    s,
    dbAfter: dbSize(s.file),
    walAfter: fileSize(`${s.file}-wal`),
    rssAfter: sampleProcess(s.server!.pid).rss,
    rssPeak: peakRss(s.server!.pid),
  }));
  const errors = running.reduce((k, s) => k + OPERATIONS.reduce((e, { name }) => e + pooled(s, name).errors, 0), 0);
  const cpu = cpus();
  const first = running[0]!;
  const last = running[running.length - 1]!;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const cache = await sqliteCache(first.file);
  const lines = [
    '# Tessera as its database grows',
    '',
    `Written by \`npm run bench -- scale${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString()}: ` +
      `${cpu[0]?.model ?? '?'}, ${cpu.length} logical cores, ${mb(totalmem())}; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} at the end; Node.js ${process.version}; SQLite ${cache.version}; Tessera ${start.why}.`,
    '',
    `Each size: N people, each with an SSO session, a grant and a refresh token. ${USERS} virtual users; per ` +
      `operation a warm-up, then ${ROUNDS} windows of ${MS} ms per size, the sizes taking turns (all issuers ` +
      'running at once, each on its own database). Rate: median of the windows (min–max); p50 and p99 over ' +
      'every operation of every window; CPU: the issuer process’s user + system time per operation, median ' +
      '(min–max) of the windows. The SSO visits and rotations add a grant, a code, an access token and a ' +
      'refresh token each, so the database grows during the run.',
    '',
    `SQLite page cache: \`cache_size\` ${cache.cacheSize} (better-sqlite3’s default, per connection), ` +
      `\`mmap_size\` ${cache.mmapSize}: the cache is bounded whatever the size of the file.`,
    '',
    mdTable(
      ['', ...running.map((s) => `${s.n.toLocaleString('en')} people`), `${last.n / first.n}× the people`],
      [
        ['seeding (one transaction)', ...running.map((s) => `${s.seedSeconds.toFixed(1)} s`), ''],
        [
          'database (file + WAL), seeded → after the run',
          ...results.map((r) => `${mb(r.s.dbSeeded)} → ${mb(r.dbAfter)} (WAL ${mb(r.walAfter)})`),
          '',
        ],
        [
          'issuer RSS, started → after the run (peak)',
          ...results.map((r) => `${mb(r.s.rssStarted)} → ${mb(r.rssAfter)} (${mb(r.rssPeak)})`),
          ratio(results[results.length - 1]!.rssPeak, results[0]!.rssPeak),
        ],
        ...OPERATIONS.flatMap(({ name }) => {
          const at = running.map((s) => pooled(s, name));
          const a = at[0]!;
          const b = at[at.length - 1]!;
          return [
            [
              name,
              ...at.map(
                (p) =>
                  `${spread(p.rates)} /s, ` +
                  `p50 ${msf(percentile(p.latencies, 50))}, p99 ${msf(percentile(p.latencies, 99))}` +
                  (p.errors ? `, ${p.errors} errors` : ''),
              ),
              `p50 ${ratio(percentile(b.latencies, 50), percentile(a.latencies, 50))}, ` +
                `p99 ${ratio(percentile(b.latencies, 99), percentile(a.latencies, 99))}`,
            ],
            [
              `— issuer CPU per operation, µs`,
              ...at.map((p) => spread(p.cpuPerOp)),
              ratio(median(b.cpuPerOp), median(a.cpuPerOp)),
            ],
            [
              `— of which system (kernel) time, µs`,
              ...at.map((p) => spread(p.systemPerOp)),
              ratio(median(b.systemPerOp), median(a.systemPerOp)),
            ],
          ];
        }),
      ],
    ),
  ];
  mkdirSync(out, { recursive: true });
  const file = join(out, 'scale-results.md');
  writeFileSync(file, `${lines.join('\n')}\n`);
  say(`\nWrote ${relative(REPO, file)}`);
  if (errors) {
    say(`${errors} operations failed: the run does not count.`);
    code = 1;
  }
} catch (e) {
  process.stderr.write(`scale: ${e instanceof Error ? e.message : String(e)}\n`);
  code = 1;
} finally {
  for (const s of running) {
    await s.server?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
}
process.exit(code);

/** The page cache and memory map the issuer's connection gets: openStore's, which sets neither. */
async function sqliteCache(file: string): Promise<{ cacheSize: string; mmapSize: string; version: string }> {
  const store = await openStore(file);
  try {
    const sqlite = sqliteOf(store);
    const cacheSize = sqlite.pragma('cache_size', { simple: true }) as number;
    const mmap = sqlite.pragma('mmap_size', { simple: true }) as number | undefined;
    return {
      cacheSize: cacheSize < 0 ? `${cacheSize} (${(-cacheSize / 1024).toFixed(1)} MiB)` : `${cacheSize} pages`,
      mmapSize: mmap ? mb(mmap) : '0 (no memory map)',
      version: sqlite.prepare('select sqlite_version()').pluck().get() as string,
    };
  } finally {
    await store.close();
  }
}
