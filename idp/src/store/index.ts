/** The store: the only code that touches the database. Routes and protocol code see these repositories. */
import { openDatabase, type OpenDatabase } from './database.js';
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
  close(): void;
}

/** The SQLite store, with its database handle. */
export type SqliteStore = Store & { database: OpenDatabase };

/** Opens the SQLite store at `file` (created and migrated as needed). */
export function openStore(file: string): SqliteStore {
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
