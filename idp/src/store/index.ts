/**
 * The store: the only code that touches the database. Routes and protocol code see these
 * repositories, the same on either engine; which engine runs is decided here, once, by where the
 * database is.
 */
import type { Logger } from '@tessera/shared';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenDatabase } from './database.js';
import type { PostgresDatabase } from './pg/database.js';
import { backchannelRepository, type BackchannelRepository } from './backchannel.js';
import { auditRepository, type AuditRepository } from './audit.js';
import { refreshTokenRepository, type RefreshTokenRepository } from './refresh-tokens.js';
import { clientRepository, resourceRepository, type ClientRepository, type ResourceRepository } from './clients.js';
import { consentRepository, type ConsentRepository } from './consents.js';
import { grantRepository, type GrantRepository } from './grants.js';
import { interactionRepository, type InteractionRepository } from './interactions.js';
import { sessionRepository, type SessionRepository } from './sessions.js';
import { signingKeyRepository, type SigningKeyRepository } from './signing-keys.js';
import { signInThrottleRepository, type SignInThrottleRepository } from './sign-in-throttles.js';
import { statusListRepository, type StatusListRepository } from './status-lists.js';
import { userRepository, type UserRepository } from './users.js';

export interface Store {
  users: UserRepository;
  sessions: SessionRepository;
  clients: ClientRepository;
  resources: ResourceRepository;
  interactions: InteractionRepository;
  grants: GrantRepository;
  consents: ConsentRepository;
  signingKeys: SigningKeyRepository;
  backchannel: BackchannelRepository;
  refreshTokens: RefreshTokenRepository;
  audit: AuditRepository;
  statusLists: StatusListRepository;
  signInThrottles: SignInThrottleRepository;
  /** The database under the repositories, for tests, tools and the readiness probe. */
  database: StoreDatabase;
  close(): Promise<void>;
}

/**
 * The database on either engine. `engine`, `query` (one statement, `?` placeholders) and `close`
 * are the same on both; the engine's own handles (`sqlite`, `pool`) are there once `engine` is
 * checked, for what only makes sense on that engine.
 */
export type StoreDatabase = OpenDatabase | PostgresDatabase;

/**
 * The SQLite connection under `store`, for what only SQLite has (pragmas, its file's checkpoints,
 * synchronous reads in tests); an error on PostgreSQL, so such code fails plainly there.
 */
export function sqliteOf(store: Pick<Store, 'database'>): Database.Database {
  if (store.database.engine !== 'sqlite')
    throw new Error(`this needs SQLite; the store runs on ${store.database.engine}`);
  return store.database.sqlite;
}

export interface StoreOptions {
  /** Connections to PostgreSQL (TESSERA_DATABASE_POOL); SQLite has one. */
  poolSize?: number;
  /** Where the store reports what goes wrong outside a request (a lost idle connection). */
  log?: Logger;
}

/** A PostgreSQL connection URL, as TESSERA_DATABASE may be; anything else is a SQLite file path. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens the store at `location`, migrated as needed: a `postgres://` or `postgresql://` URL is a
 * PostgreSQL database, anything else a SQLite file (or `:memory:`). Rejects a database migrated by
 * a newer build (migrations.ts).
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  return openSqliteStore(location);
}

function openSqliteStore(file: string): Store {
  const database = openDatabase(file);
  const { db } = database;
  return {
    database,
    users: userRepository(db),
    sessions: sessionRepository(db),
    clients: clientRepository(db),
    resources: resourceRepository(db),
    interactions: interactionRepository(db),
    grants: grantRepository(db),
    consents: consentRepository(db),
    signingKeys: signingKeyRepository(db, database.sqlite),
    backchannel: backchannelRepository(db),
    refreshTokens: refreshTokenRepository(db),
    audit: auditRepository(db),
    statusLists: statusListRepository(db),
    signInThrottles: signInThrottleRepository(db),
    close: () => database.close(),
  };
}

export type { User } from './users.js';
export { EmailTakenError, normalizeEmail } from './users.js';
export type { SsoSession } from './sessions.js';
export type { Client, ClientParty, ClientType, Resource } from './clients.js';
export type { Interaction } from './interactions.js';
export type { Grant } from './grants.js';
export type { BackchannelDelivery } from './backchannel.js';
export type { RefreshToken } from './refresh-tokens.js';
export type { AuditEvent } from './audit.js';
export type { StatusListPosition } from './status-lists.js';
export type { Reservation, SignInThrottle, ThrottleKey, ThrottlePolicy } from './sign-in-throttles.js';
