/**
 * A bounded load on a real issuer process over loopback: concurrent clients signing in (a small
 * share: argon2id-bound), exchanging codes, rotating refresh tokens, calling userinfo and fetching
 * the JWKS. It must end with zero errors (every answer the expected 200/302/303) and zero lost
 * writes (every session, grant and refresh token acknowledged to a client is in the database).
 *
 * The normal suite runs it for LOAD_SECONDS (default 5). The longer run, on demand:
 *   npm run load -w @tessera/idp                 (60 s)
 *   LOAD_SECONDS=300 LOAD_WORKERS=32 LOAD_SIGN_IN_WORKERS=2 npm run load -w @tessera/idp
 * Figures per operation (count, per second, p50/p95/p99 latency) are printed at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, freshDatabase } from '../support/databases.js';
import { freePort, spawnIssuer, type IssuerProcess } from '../support/issuer-process.js';
import {
  Ledger,
  checkLedger,
  formatReport,
  refreshEveryFamily,
  runLoad,
  seedLoadDatabase,
  type LoadReport,
} from '../support/load-driver.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 5);
const WORKERS = Number(process.env.LOAD_WORKERS ?? 16);
const SIGN_IN_WORKERS = Number(process.env.LOAD_SIGN_IN_WORKERS ?? 1);

let database: string;
let idp: IssuerProcess | undefined;
let emails: string[];
const ledger = new Ledger();
let report: LoadReport;

beforeAll(
  async () => {
    database = await freshDatabase();
    ({ emails } = await seedLoadDatabase(database, { users: SIGN_IN_WORKERS + 1 }));
    idp = await spawnIssuer({ database, port: await freePort() });
    // The load runs once, before the cases: each of them reads its outcome, so any one of them run
    // alone (`-t`) still checks a real load.
    report = await runLoad({
      issuer: idp.url,
      emails,
      ledger,
      seconds: SECONDS,
      workers: WORKERS,
      signInWorkers: SIGN_IN_WORKERS,
    });
    console.log(formatReport('load', report));
  },
  (SECONDS + 120) * 1000,
);

afterAll(async () => {
  await idp?.stop();
  if (database) await dropDatabase(database);
});

describe(`a ${SECONDS} s load of ${WORKERS} clients and ${SIGN_IN_WORKERS} signing in`, () => {
  it('answers every request as expected (no error, no 500)', () => {
    expect(report.errors).toEqual([]);
    for (const op of Object.values(report.ops)) expect(op.errors).toBe(0);
    expect(report.ops.refresh.count).toBeGreaterThan(0);
    expect(report.ops['code exchange'].count).toBeGreaterThan(0);
    expect(report.ops['sign-in'].count).toBeGreaterThan(0);
    expect(idp!.unhandled).toEqual([]);
  });

  it('lost no acknowledged write: every session, grant and refresh token is in the database', async () => {
    // An empty ledger would pass the checks below without testing anything.
    expect(ledger.sessions.length).toBeGreaterThan(0);
    expect(ledger.families.length).toBeGreaterThan(0);
    const check = await checkLedger(database, ledger);
    console.log(
      `ledger: ${check.sessions} sessions, ${check.families} grants, ` +
        `${check.refreshTokens} refresh tokens acknowledged; lost: ${check.lost.length}`,
    );
    expect(check.lost).toEqual([]);
    expect(check.committedInFlight).toBe(0);
    expect(check.families).toBe(ledger.families.length);
  });

  it('still refreshes every family with its last acknowledged refresh token', async () => {
    expect(ledger.families.length).toBeGreaterThan(0);
    const result = await refreshEveryFamily(idp!.url, ledger);
    expect(result.failures).toEqual([]);
    expect(result.refreshed).toBe(ledger.families.length);
  }, 60_000);
});
