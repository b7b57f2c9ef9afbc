/**
 * What scaling out costs and gives: the same issuer on SQLite (one node) and on PostgreSQL with
 * one, two and three nodes (two and three behind nginx, round robin), scenario by scenario, over
 * loopback HTTP, deployments interleaved over several repetitions. For each: the total rate and
 * the rate per node, p50/p99, the CPU per operation of the whole deployment (issuer nodes,
 * nginx, and PostgreSQL's server processes), and on PostgreSQL the database's writes per
 * operation: write transactions (transaction ids assigned) and WAL bytes.
 *
 *   npm run bench -- cluster            # writes scripts/bench/cluster-results.md
 *   npm run bench -- cluster --quick    # short, one repetition (not run in CI: `compare --quick` is)
 *   npm run bench -- cluster --baseline=/tmp/base   # and another checkout's build on PostgreSQL, one node
 *
 * All of it shares the machine's cores with the load generator: on a machine with few cores,
 * more nodes only show their overhead. docs/scaling.md turns these figures into a capacity model.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import pg from 'pg';
import { startLoadBalancer, type LoadBalancer } from '../src/load-balancer.js';
import { HttpClient } from './lib/http.js';
import { authorize, freshJar, redeem, rotate, tesseraUnderTest, type IssuerUnderTest } from './lib/issuers.js';
import { drive, median, percentile, sampleProcessTree, type Operation } from './lib/load.js';
import { mdTable } from './lib/markdown.js';
import { REPO, freePort, type ServerProcess } from './lib/processes.js';
import { FROM_SOURCES_FLAG, tesseraStartPath } from './lib/start-path.js';
import { seedTessera, startTessera } from './lib/tessera.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const MS = quick ? 700 : Number(process.env.BENCH_MS ?? 5000);
const REPS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = quick ? 200 : 1000;
const USERS = 8;
/**
 * Another checkout of Tessera, built (its `idp/dist`): added as one more deployment, one node on
 * PostgreSQL, so a change to the PostgreSQL store is measured before and after in one run.
 */
const baselineDir = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
// cluster-results.md is the record of a full run: a quick one or one with a baseline writes elsewhere.
const out = quick || baselineDir ? join(REPO, 'test-artifacts/bench') : join(REPO, 'scripts/bench');
const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-bench-'));
const say = (s: string) => process.stdout.write(`${s}\n`);

/** One way of running the issuer: its nodes, the balancer in front of them, and its database. */
interface Deployment {
  name: string;
  nodes: ServerProcess[];
  balancer?: LoadBalancer;
  issuer: IssuerUnderTest;
  /** PostgreSQL: the database's name, for its write counters. */
  database?: string;
}

interface Row {
  scenario: string;
  deployment: Deployment;
  rates: number[];
  latencies: number[];
  cpuPerOp: number[];
  writeTxPerOp: number[];
  walBytesPerOp: number[];
  errors: number;
  errorSamples: string[];
}

let postgres: ThrowawayPostgres | undefined;
const deployments: Deployment[] = [];

async function main(): Promise<number> {
  const start = tesseraStartPath(args.includes(FROM_SOURCES_FLAG));
  say(`Tessera: ${start.why}`);
  postgres = await startThrowawayPostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  // One key-encryption key per deployment, shared by its nodes: each must read the keys another wrote.
  const deploy = async (
    name: string,
    database: string,
    nodes: number,
    dbName?: string,
    entry?: string,
  ): Promise<Deployment> => {
    const { secret } = await seedTessera(database, USERS);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const kek = randomBytes(32).toString('base64url');
    const servers: ServerProcess[] = [];
    for (let i = 0; i < nodes; i++) {
      servers.push(
        await startTessera({
          database,
          port: nodes === 1 ? port : await freePort(),
          issuer: origin,
          keyEncryptionKey: kek,
          logDir: dir,
          name: `${name} node ${i + 1}`,
          ...(entry ? { compiled: true, entry } : { compiled: start.compiled }),
        }),
      );
    }
    const balancer =
      nodes === 1
        ? undefined
        : await startLoadBalancer({ port, upstreams: servers.map((s) => Number(new URL(s.origin).port)) });
    const d: Deployment = {
      name,
      nodes: servers,
      ...(balancer && { balancer }),
      issuer: { ...tesseraUnderTest(new HttpClient(origin)), name },
      ...(dbName && { database: dbName }),
    };
    secrets.set(d, secret);
    deployments.push(d);
    return d;
  };
  const secrets = new Map<Deployment, string>();
  const postgresDatabase = async (name: string) => {
    await admin.query(`create database ${name}`);
    const url = new URL(postgres!.url);
    url.pathname = `/${name}`;
    return url.toString();
  };
  await deploy('SQLite, 1 node', join(dir, 'tessera.db'), 1);
  for (const n of [1, 2, 3])
    await deploy(`PostgreSQL, ${n} node${n > 1 ? 's' : ''}`, await postgresDatabase(`nodes_${n}`), n, `nodes_${n}`);
  if (baselineDir)
    await deploy(
      'PostgreSQL, 1 node, baseline',
      await postgresDatabase('baseline'),
      1,
      'baseline',
      join(resolve(baselineDir), 'idp/dist/main.js'),
    );

  // Each user signs in once at each deployment: a browser with a session, and a refresh token.
  const jars = new Map(deployments.map((d) => [d, Array.from({ length: USERS }, freshJar)]));
  const refreshTokens = new Map<Deployment, string[]>();
  for (const d of deployments) {
    const tokens: string[] = [];
    for (let u = 0; u < USERS; u++)
      tokens.push(
        (await redeem(d.issuer, secrets.get(d)!, await authorize(d.issuer, jars.get(d)![u]!, u))).refresh_token,
      );
    refreshTokens.set(d, tokens);
  }
  const scenarios: { id: string; title: string; op: (d: Deployment) => Operation }[] = [
    {
      id: 'sso-visit',
      title: 'SSO visit (authorize with a session cookie → code → token)',
      op: (d) => async (u) => {
        await redeem(d.issuer, secrets.get(d)!, await authorize(d.issuer, jars.get(d)![u]!, u));
      },
    },
    {
      id: 'refresh',
      title: 'refresh_token grant (rotating)',
      op: (d) => async (u) => {
        const tokens = refreshTokens.get(d)!;
        tokens[u] = (await rotate(d.issuer, secrets.get(d)!, tokens[u]!)).refresh_token;
      },
    },
    {
      id: 'sign-in',
      title: 'password sign-in (a new browser: authorize → form → one argon2id verify → code)',
      op: (d) => async (u) => {
        await authorize(d.issuer, freshJar(), u);
      },
    },
  ];

  const cpuOf = (d: Deployment) => {
    const pids = [...d.nodes.map((n) => n.pid), ...(d.balancer ? [d.balancer.pid] : []), postmasterPid()];
    return pids.reduce((sum, pid) => sum + sampleProcessTree(pid).cpuMicros, 0);
  };
  const writesOf = async (d: Deployment) => {
    if (!d.database) return undefined;
    // The next transaction id (none is used up by asking) and the WAL's end: both only move on writes.
    const { rows } = await admin.query(
      'select pg_snapshot_xmax(pg_current_snapshot())::text::bigint as xid, ' +
        "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint as wal",
    );
    return { xid: Number(rows[0].xid), wal: Number(rows[0].wal) };
  };

  const rows: Row[] = [];
  for (const scenario of scenarios) {
    say(`\n${scenario.title}`);
    const byDeployment = deployments.map((deployment) => {
      const row: Row = {
        scenario: scenario.title,
        deployment,
        rates: [],
        latencies: [],
        cpuPerOp: [],
        writeTxPerOp: [],
        walBytesPerOp: [],
        errors: 0,
        errorSamples: [],
      };
      rows.push(row);
      return row;
    });
    for (const row of byDeployment) await drive(USERS, WARMUP_MS, scenario.op(row.deployment));
    for (let rep = 0; rep < REPS; rep++) {
      for (const row of byDeployment) {
        const d = row.deployment;
        const cpu = cpuOf(d);
        // Every database of the server shares the counters: the others are idle meanwhile.
        const writes = await writesOf(d);
        const w = await drive(USERS, MS, scenario.op(d));
        const cpuAfter = cpuOf(d);
        const writesAfter = await writesOf(d);
        for (const n of d.nodes) n.assertAlive();
        const ops = Math.max(1, w.ops);
        row.rates.push(w.ops / w.seconds);
        row.latencies.push(...w.latencies);
        row.cpuPerOp.push((cpuAfter - cpu) / ops);
        if (writes && writesAfter) {
          row.writeTxPerOp.push((writesAfter.xid - writes.xid) / ops);
          row.walBytesPerOp.push((writesAfter.wal - writes.wal) / ops);
        }
        row.errors += w.errors;
        row.errorSamples.push(...w.errorSamples);
        say(
          `  ${d.name.padEnd(22)} ${(w.ops / w.seconds).toFixed(0).padStart(6)} /s  ` +
            `p99 ${percentile(w.latencies, 99).toFixed(1)} ms  cpu ${row.cpuPerOp.at(-1)!.toFixed(0)} µs/op` +
            (row.writeTxPerOp.length ? `  ${row.writeTxPerOp.at(-1)!.toFixed(2)} write tx/op` : '') +
            (w.errors ? `  ERRORS ${w.errors}: ${w.errorSamples[0]}` : ''),
        );
      }
    }
  }
  await admin.end();

  const errors = rows.reduce((n, r) => n + r.errors, 0);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'cluster-results.md'), report(rows, start.why));
  say(`\nWrote ${relative(REPO, join(out, 'cluster-results.md'))}`);
  if (errors) say(`\n${errors} operations failed: the run does not count.`);
  return errors ? 1 : 0;
}

/** PostgreSQL's postmaster: its process tree is the whole server. */
function postmasterPid(): number {
  return Number(readFileSync(join(postgres!.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function report(rows: Row[], startPath: string): string {
  const f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const lines = [
    '# Tessera scaled out: SQLite and PostgreSQL, one to three nodes',
    '',
    `${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ` +
      `load average ${loadavg()[0]!.toFixed(1)} at the end; ${USERS} users, closed loop, ` +
      `${REPS} interleaved repetitions of ${MS / 1000} s per deployment${quick ? ' (--quick)' : ''}. ${startPath}`,
    '',
    'Produced by `npm run bench -- cluster` (scripts/bench/cluster.ts). Rates are medians over the repetitions; ' +
      'CPU per operation is the whole deployment: issuer nodes, nginx and PostgreSQL. Writes per operation are ' +
      "PostgreSQL's: write transactions and WAL bytes.",
  ];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    lines.push('', `## ${scenario}`, '');
    const body = rows
      .filter((r) => r.scenario === scenario)
      .map((r) => {
        const rate = median(r.rates);
        return [
          r.deployment.name,
          `${f(rate)} /s (${f(Math.min(...r.rates))}–${f(Math.max(...r.rates))})`,
          `${f(rate / r.deployment.nodes.length)} /s`,
          `${f(percentile(r.latencies, 50), 1)} / ${f(percentile(r.latencies, 99), 1)} ms`,
          `${f(median(r.cpuPerOp))} µs`,
          r.writeTxPerOp.length ? f(median(r.writeTxPerOp), 2) : 'n/a',
          r.walBytesPerOp.length ? `${f(median(r.walBytesPerOp))} B` : 'n/a',
          String(r.errors),
        ];
      });
    lines.push(
      mdTable(
        ['deployment', 'total rate', 'per node', 'p50 / p99', 'CPU per op', 'write tx per op', 'WAL per op', 'errors'],
        body,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function cleanUp(): Promise<void> {
  for (const d of deployments) {
    await d.balancer?.stop();
    for (const n of d.nodes) await n.stop();
  }
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    await cleanUp();
    process.exit(1);
  },
);
