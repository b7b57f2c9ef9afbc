/**
 * Repository-level tests on both engines: one database per test, opened by as many "nodes" as a
 * test needs, each with its own connections (SQLite: its own store on the same file; PostgreSQL:
 * its own pool on the same database), as separate issuer processes would.
 *
 * PostgreSQL is a real throwaway server, one per test file (`useEngines()` in the file's top
 * level); each test's database is a copy of one migrated at start (CREATE DATABASE … TEMPLATE).
 * Without the server package, starting it fails, and so do the tests: they never pass without it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { AuditRepository } from '../../src/store/audit.js';
import type { BackchannelRepository } from '../../src/store/backchannel.js';
import type { ClientAssertionRepository } from '../../src/store/client-assertions.js';
import type { GrantRepository } from '../../src/store/grants.js';
import type { DeviceAuthorizationRepository } from '../../src/store/device-authorizations.js';
import { deviceAuthorizationRepository as pgDeviceAuthorizations } from '../../src/store/pg/device-authorizations.js';
import type { DPoPProofRepository } from '../../src/store/dpop-proofs.js';
import type { EmailLinkRepository } from '../../src/store/email-links.js';
import { emailLinkRepository as pgEmailLinks } from '../../src/store/pg/email-links.js';
import { dpopProofRepository as pgDPoPProofs } from '../../src/store/pg/dpop-proofs.js';
import type { InteractionRepository } from '../../src/store/interactions.js';
import type { PasskeyRepository } from '../../src/store/passkeys.js';
import { passkeyRepository as pgPasskeys } from '../../src/store/pg/passkeys.js';
import { userRepository as pgUsers } from '../../src/store/pg/users.js';
import type { UserRepository } from '../../src/store/users.js';
import { webauthnChallengeRepository as pgWebAuthnChallenges } from '../../src/store/pg/webauthn-challenges.js';
import type { WebAuthnChallengeRepository } from '../../src/store/webauthn-challenges.js';
import type { PushedAuthorizationRequestRepository } from '../../src/store/pushed-authorization-requests.js';
import type { RefreshTokenRepository } from '../../src/store/refresh-tokens.js';
import type { SessionRepository } from '../../src/store/sessions.js';
import { openStore } from '../../src/store/index.js';
import { auditRepository as pgAudit } from '../../src/store/pg/audit.js';
import { backchannelRepository as pgBackchannel } from '../../src/store/pg/backchannel.js';
import { clientAssertionRepository as pgClientAssertions } from '../../src/store/pg/client-assertions.js';
import { grantRepository as pgGrants } from '../../src/store/pg/grants.js';
import { interactionRepository as pgInteractions } from '../../src/store/pg/interactions.js';
import { pushedAuthorizationRequestRepository as pgPushed } from '../../src/store/pg/pushed-authorization-requests.js';
import { refreshTokenRepository as pgRefreshTokens } from '../../src/store/pg/refresh-tokens.js';
import { sessionRepository as pgSessions } from '../../src/store/pg/sessions.js';
import { migratePostgres } from '../../src/store/pg/migrate.js';
import * as pgSchema from '../../src/store/pg/schema.js';
import { signInThrottleRepository as pgSignInThrottles } from '../../src/store/pg/sign-in-throttles.js';
import { signingKeyRepository as pgSigningKeys } from '../../src/store/pg/signing-keys.js';
import {
  statusListRepository as pgStatusLists,
  touchStatusLists as pgTouchStatusLists,
} from '../../src/store/pg/status-lists.js';
import type { SignInThrottleRepository } from '../../src/store/sign-in-throttles.js';
import type { SigningKeyRepository } from '../../src/store/signing-keys.js';
import { touchStatusLists, type StatusListRepository } from '../../src/store/status-lists.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

type Row = Record<string, unknown>;

/** One issuer process's view of the database: its own connections, its own repositories. */
export interface StoreNode {
  signingKeys: SigningKeyRepository;
  backchannel: BackchannelRepository;
  statusLists: StatusListRepository;
  signInThrottles: SignInThrottleRepository;
  sessions: SessionRepository;
  interactions: InteractionRepository;
  pushedAuthorizationRequests: PushedAuthorizationRequestRepository;
  grants: GrantRepository;
  deviceAuthorizations: DeviceAuthorizationRepository;
  dpopProofs: DPoPProofRepository;
  refreshTokens: RefreshTokenRepository;
  audit: AuditRepository;
  clientAssertions: ClientAssertionRepository;
  passkeys: PasskeyRepository;
  users: UserRepository;
  webauthnChallenges: WebAuthnChallengeRepository;
  emailLinks: EmailLinkRepository;
  /** Moves lists' versions as the grants repository does inside its transactions. */
  touchStatusLists(ids: number[], now: number): Promise<void>;
  /** One statement with `?` placeholders, on this node's connections. */
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export interface NodeOptions {
  /** The clock the PostgreSQL signing-key fingerprint ages by (SQLite's needs none). */
  now?: () => number;
}

export interface EngineDatabase {
  engine: Engine;
  /** PostgreSQL: the database's URL, for a test's own connections. */
  url?: string;
  /** Opens another node on this test's database. */
  node(options?: NodeOptions): Promise<StoreNode>;
}

let server: ThrowawayPostgres | undefined;
let admin: pg.Client | undefined;
let databases = 0;
const opened: StoreNode[] = [];
const sqliteDirs: string[] = [];

const TEMPLATE = 'tessera_migrated';

/** Registers the file's hooks: a PostgreSQL server for the file, nodes closed after each test. */
export function useEngines(): void {
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`create database ${TEMPLATE}`);
    const migrating = new pg.Pool({ connectionString: databaseUrl(TEMPLATE), max: 1 });
    try {
      await migratePostgres(migrating);
    } finally {
      await migrating.end();
    }
    // A database is copied only while nobody is connected to it.
    await connectionsGone(admin);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((n) => n.close()));
  });
  afterAll(async () => {
    if (admin) {
      await connectionsGone(admin);
      await admin.end();
    }
    await server?.stop();
    for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Waits until the server has closed every test connection: a pool's end() resolves before its
 * sockets are closed, and a server stopped meanwhile would end them with an error nobody handles.
 */
async function connectionsGone(client: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity ' +
        "where backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    if (rows[0]!.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function databaseUrl(name: string): string {
  const url = new URL(server!.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated database on `engine`, for one test. */
export async function freshDatabase(engine: Engine): Promise<EngineDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-engines-'));
    sqliteDirs.push(dir);
    const file = join(dir, 'tessera.db');
    return { engine, node: async () => track(await sqliteNode(file)) };
  }
  const name = `tessera_test_${++databases}`;
  await admin!.query(`create database ${name} template ${TEMPLATE}`);
  const url = databaseUrl(name);
  return { engine, url, node: async (options = {}) => track(postgresNode(url, options)) };
}

function track(node: StoreNode): StoreNode {
  opened.push(node);
  return node;
}

async function sqliteNode(file: string): Promise<StoreNode> {
  const store = await openStore(file);
  const { database } = store;
  if (database.engine !== 'sqlite') throw new Error(`${file} opened ${database.engine}`);
  let closed = false;
  return {
    signingKeys: store.signingKeys,
    backchannel: store.backchannel,
    statusLists: store.statusLists,
    signInThrottles: store.signInThrottles,
    sessions: store.sessions,
    interactions: store.interactions,
    pushedAuthorizationRequests: store.pushedAuthorizationRequests,
    grants: store.grants,
    deviceAuthorizations: store.deviceAuthorizations,
    dpopProofs: store.dpopProofs,
    refreshTokens: store.refreshTokens,
    audit: store.audit,
    clientAssertions: store.clientAssertions,
    passkeys: store.passkeys,
    users: store.users,
    webauthnChallenges: store.webauthnChallenges,
    emailLinks: store.emailLinks,
    touchStatusLists: async (ids, now) => touchStatusLists(database.db, ids, now),
    query: (text, params) => store.database.query(text, params),
    close: async () => {
      if (!closed) await store.close();
      closed = true;
    },
  };
}

function postgresNode(url: string, options: NodeOptions): StoreNode {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const db = drizzle({ client: pool, schema: pgSchema });
  let closed: Promise<void> | undefined;
  return {
    signingKeys: pgSigningKeys(db, options.now ? { now: options.now } : {}),
    backchannel: pgBackchannel(db),
    statusLists: pgStatusLists(db),
    signInThrottles: pgSignInThrottles(db),
    sessions: pgSessions(db),
    interactions: pgInteractions(db),
    pushedAuthorizationRequests: pgPushed(db),
    grants: pgGrants(db),
    deviceAuthorizations: pgDeviceAuthorizations(db),
    dpopProofs: pgDPoPProofs(db),
    refreshTokens: pgRefreshTokens(db),
    audit: pgAudit(db),
    clientAssertions: pgClientAssertions(db),
    passkeys: pgPasskeys(db),
    users: pgUsers(db),
    webauthnChallenges: pgWebAuthnChallenges(db),
    emailLinks: pgEmailLinks(db),
    touchStatusLists: (ids, now) => db.transaction((tx) => pgTouchStatusLists(tx, ids, now)),
    query: async (text, params = []) => {
      let n = 0;
      const result = await pool.query(
        text.replace(/\?/g, () => `$${++n}`),
        [...params],
      );
      return result.rows;
    },
    close: () => {
      closed ??= pool.end();
      return closed;
    },
  };
}

/** Runs `n` calls at once. */
export const inParallel = <T>(n: number, call: (i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => call(i)));
