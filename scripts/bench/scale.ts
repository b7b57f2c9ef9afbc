/**
 * Growth: how Tessera behaves as its database grows from 10,000 to 1,000,000 people. For each
 * size N a fresh SQLite file gets N people, each with an SSO session, a grant and a refresh
 * token, written by bulk SQL in one transaction (the issuer's own API seeds the client, the API
 * and the first people; the rest copy the first person's argon2id hash, which costs the same to
 * verify). Then the issuer starts on it, in its own process, and 8 virtual users each run, for
 * a fixed time: SSO visits on random sessions, refresh-token rotations of random families, and
 * password sign-ins as random people. Reported per size: seeding time, database size, the
 * issuer's RSS, and each operation's rate and p50/p99 latency.
 *
 *   npm run bench -- scale                    # 10,000 and 1,000,000 (long: minutes, up to ~2 GB of temporary disk)
 *   npm run bench -- scale --small            # 1,000 and 10,000, to check the harness
 *   npm run bench -- scale --sizes=10000,100000
 *
 * BENCH_MS sets each measurement window (default 10000; --small: 1500).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { openStore } from '@tessera/idp';
import { BENCH_CLIENT, BENCH_RESOURCE, BENCH_SCOPE, benchEmail } from './lib/constants.js';
import { CookieJar, HttpClient } from './lib/http.js';
import { authorize, freshJar, redeem, rotate, tesseraUnderTest } from './lib/issuers.js';
import { type Operation, type Window, drive, percentile, sampleProcess } from './lib/load.js';
import { mdTable } from './lib/markdown.js';
import { REPO, freePort } from './lib/processes.js';
import { seedTessera, startTessera, tesseraStartPath } from './lib/tessera.js';

const args = process.argv.slice(2);
const small = args.includes('--small');
const sizesArg = args.find((a) => a.startsWith('--sizes='))?.slice('--sizes='.length);
const sizes = sizesArg ? sizesArg.split(',').map(Number) : small ? [1_000, 10_000] : [10_000, 1_000_000];
const MS = Number(process.env.BENCH_MS ?? (small ? 1500 : 10_000));
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
  const store = openStore(file);
  try {
    const { sqlite } = store.database;
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
    store.close();
  }
}

const fileSize = (f: string) => (existsSync(f) ? statSync(f).size : 0);
const dbSize = (f: string) => fileSize(f) + fileSize(`${f}-wal`);
const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MB`;
const msf = (x: number) => `${x.toFixed(1)} ms`;

interface Measured {
  n: number;
  seedSeconds: number;
  dbSeeded: number;
  dbAfter: number;
  rssIdle: number;
  rssAfter: number;
  windows: { name: string; w: Window }[];
}

async function measure(n: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  try {
    const file = join(dir, 'tessera.db');
    const t0 = performance.now();
    const { secret } = await seedTessera(file, API_SEEDED);
    await bulkSeed(file, n);
    const seedSeconds = (performance.now() - t0) / 1000;
    const dbSeeded = dbSize(file);
    say(`  seeded ${n} people, sessions, grants and refresh tokens in ${seedSeconds.toFixed(1)} s: ${mb(dbSeeded)}`);
    const server = await startTessera({ databaseFile: file, port: await freePort(), logDir: dir });
    try {
      const issuer = tesseraUnderTest(new HttpClient(server.origin));
      const rssIdle = sampleProcess(server.pid).rss;
      const pick = () => Math.floor(Math.random() * n);
      // Each family is rotated once at most, so no token is ever presented twice.
      let nextFamily = 0;
      const families = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [families[i], families[j]] = [families[j]!, families[i]!];
      }
      const ops: { name: string; op: Operation }[] = [
        {
          name: 'SSO visit (random session: authorize → code → token)',
          op: async () => {
            const i = pick();
            const jar = new CookieJar().set('tessera_session', sessionSecret(i));
            await redeem(issuer, secret, await authorize(issuer, jar, i));
          },
        },
        {
          name: 'refresh_token grant (random family)',
          op: async () => {
            const i = families[nextFamily++];
            if (i === undefined) return 'exhausted';
            await rotate(issuer, secret, refreshSecret(i));
            return undefined;
          },
        },
        {
          name: 'password sign-in (random person)',
          op: async () => void (await authorize(issuer, freshJar(), pick())),
        },
      ];
      const windows: Measured['windows'] = [];
      for (const { name, op } of ops) {
        await drive(USERS, Math.min(1000, MS / 4), op);
        const w = await drive(USERS, MS, op);
        server.assertAlive();
        windows.push({ name, w });
        say(
          `  ${name.padEnd(54)} ${(w.ops / w.seconds).toFixed(0).padStart(6)} /s  ` +
            `p50 ${msf(percentile(w.latencies, 50))}  p99 ${msf(percentile(w.latencies, 99))}` +
            (w.errors ? `  ERRORS ${w.errors}: ${w.errorSamples[0]}` : ''),
        );
      }
      return {
        n,
        seedSeconds,
        dbSeeded,
        dbAfter: dbSize(file),
        rssIdle,
        rssAfter: sampleProcess(server.pid).rss,
        windows,
      };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let code = 0;
try {
  const start = tesseraStartPath();
  say(`Tessera: ${start.why}`);
  const results: Measured[] = [];
  for (const n of sizes) {
    say(`\n${n.toLocaleString('en')} people`);
    results.push(await measure(n));
  }
  const errors = results.flatMap((r) => r.windows).reduce((k, { w }) => k + w.errors, 0);
  const cpu = cpus();
  const lines = [
    '# Tessera as its database grows',
    '',
    `Written by \`npm run bench -- scale${args.length ? ` ${args.join(' ')}` : ''}\` on ${new Date().toISOString()}: ` +
      `${cpu[0]?.model ?? '?'}, ${cpu.length} logical cores, ${mb(totalmem())}; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}; Node.js ${process.version}; Tessera ${start.why}.`,
    `${USERS} virtual users, ${MS} ms per operation after a warm-up. ` +
      'Each size: N people, each with an SSO session, a grant and a refresh token.',
    '',
    mdTable(
      ['', ...results.map((r) => `${r.n.toLocaleString('en')} people`)],
      [
        ['seeding (one transaction)', ...results.map((r) => `${r.seedSeconds.toFixed(1)} s`)],
        ['database, seeded → after the run', ...results.map((r) => `${mb(r.dbSeeded)} → ${mb(r.dbAfter)}`)],
        ['issuer RSS, started → after the run', ...results.map((r) => `${mb(r.rssIdle)} → ${mb(r.rssAfter)}`)],
        ...results[0]!.windows.map(({ name }, k) => [
          name,
          ...results.map((r) => {
            const { w } = r.windows[k]!;
            return (
              `${(w.ops / w.seconds).toFixed(0)} /s, p50 ${msf(percentile(w.latencies, 50))}, ` +
              `p99 ${msf(percentile(w.latencies, 99))}${w.errors ? `, ${w.errors} errors` : ''}`
            );
          }),
        ]),
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
}
process.exit(code);
