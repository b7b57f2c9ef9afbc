/**
 * The store: the only code that touches the database. Routes and protocol code see these
 * repositories, the same on either engine; which engine runs is decided here, once, by where the
 * database is.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from './database.js';
import { openPostgresStore } from './pg/index.js';
import type { Store, StoreOptions } from './store.js';
import { backchannelRepository } from './backchannel.js';
import { auditRepository } from './audit.js';
import { refreshTokenRepository } from './refresh-tokens.js';
import { clientAssertionRepository } from './client-assertions.js';
import { clientRepository, resourceRepository } from './clients.js';
import { consentRepository } from './consents.js';
import { grantRepository } from './grants.js';
import { deviceAuthorizationRepository } from './device-authorizations.js';
import { dpopProofRepository } from './dpop-proofs.js';
import { emailLinkRepository } from './email-links.js';
import { interactionRepository } from './interactions.js';
import { pushedAuthorizationRequestRepository } from './pushed-authorization-requests.js';
import { secondFactorRepository } from './second-factors.js';
import { sessionRepository } from './sessions.js';
import { signingKeyRepository } from './signing-keys.js';
import { signInThrottleRepository } from './sign-in-throttles.js';
import { statusListRepository } from './status-lists.js';
import { passkeyRepository } from './passkeys.js';
import { userRepository } from './users.js';
import { webauthnChallengeRepository } from './webauthn-challenges.js';

export type { Store, StoreDatabase, StoreOptions } from './store.js';

/**
 * The SQLite connection under `store`, for what only SQLite has (pragmas, its file's checkpoints,
 * synchronous reads in tests); an error on PostgreSQL, so such code fails plainly there.
 */
export function sqliteOf(store: Pick<Store, 'database'>): Database.Database {
  if (store.database.engine !== 'sqlite')
    throw new Error(`this needs SQLite; the store runs on ${store.database.engine}`);
  return store.database.sqlite;
}

/** A PostgreSQL connection URL, as TESSERA_DATABASE may be; anything else is a SQLite file path. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens the store at `location`, migrated as needed: a `postgres://` or `postgresql://` URL is a
 * PostgreSQL database, anything else a SQLite file (or `:memory:`). Rejects a database migrated by
 * a newer build (migrations.ts).
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) return openPostgresStore(location, options);
  return openSqliteStore(location);
}

function openSqliteStore(file: string): Store {
  const database = openDatabase(file);
  const { db } = database;
  return {
    database,
    users: userRepository(db),
    sessions: sessionRepository(db),
    secondFactors: secondFactorRepository(db),
    clients: clientRepository(db),
    resources: resourceRepository(db),
    interactions: interactionRepository(db),
    pushedAuthorizationRequests: pushedAuthorizationRequestRepository(db),
    grants: grantRepository(db),
    deviceAuthorizations: deviceAuthorizationRepository(db),
    dpopProofs: dpopProofRepository(db),
    consents: consentRepository(db),
    signingKeys: signingKeyRepository(db, database.sqlite),
    backchannel: backchannelRepository(db),
    refreshTokens: refreshTokenRepository(db),
    audit: auditRepository(db),
    statusLists: statusListRepository(db),
    signInThrottles: signInThrottleRepository(db),
    clientAssertions: clientAssertionRepository(db),
    passkeys: passkeyRepository(db),
    webauthnChallenges: webauthnChallengeRepository(db),
    emailLinks: emailLinkRepository(db),
    close: () => database.close(),
  };
}

export { isStoreUnavailable } from './unavailable.js';
export { BackupError, backupSqlite, schemaIsCurrent } from './operations.js';
export type { User } from './users.js';
export { EmailTakenError, normalizeEmail } from './users.js';
export type { SsoSession } from './sessions.js';
export type { TotpAuthenticator } from './second-factors.js';
export type { Client, ClientJwks, ClientParty, ClientType, Resource } from './clients.js';
export type { Interaction } from './interactions.js';
export type { PushedAuthorizationRequest } from './pushed-authorization-requests.js';
export type { Grant } from './grants.js';
export type { DeviceAuthorization, DeviceDecision } from './device-authorizations.js';
export type { BackchannelDelivery } from './backchannel.js';
export type { RefreshToken } from './refresh-tokens.js';
export type { AuditEvent, AuditFilter } from './audit.js';
export type { StatusListPosition } from './status-lists.js';
export type { Passkey, PasskeyDeviceType } from './passkeys.js';
export type { WebAuthnCeremony } from './webauthn-challenges.js';
export type { EmailLink, EmailLinkPurpose } from './email-links.js';
export type { Reservation, SignInThrottle, ThrottleKey, ThrottlePolicy } from './sign-in-throttles.js';
