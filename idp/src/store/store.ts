/** What the store is, on either engine: the repositories and the database under them. */
import type { Logger } from '@tessera/shared';
import type { AuditRepository } from './audit.js';
import type { BackchannelRepository } from './backchannel.js';
import type { ClientAssertionRepository } from './client-assertions.js';
import type { ClientRepository, ResourceRepository } from './clients.js';
import type { ConsentRepository } from './consents.js';
import type { DeviceAuthorizationRepository } from './device-authorizations.js';
import type { DPoPProofRepository } from './dpop-proofs.js';
import type { EmailLinkRepository } from './email-links.js';
import type { OpenDatabase } from './database.js';
import type { PasskeyRepository } from './passkeys.js';
import type { GrantRepository } from './grants.js';
import type { InteractionRepository } from './interactions.js';
import type { PostgresDatabase } from './pg/database.js';
import type { PushedAuthorizationRequestRepository } from './pushed-authorization-requests.js';
import type { RefreshTokenRepository } from './refresh-tokens.js';
import type { SecondFactorRepository } from './second-factors.js';
import type { SessionRepository } from './sessions.js';
import type { SignInThrottleRepository } from './sign-in-throttles.js';
import type { SigningKeyRepository } from './signing-keys.js';
import type { StatusListRepository } from './status-lists.js';
import type { UserRepository } from './users.js';
import type { WebAuthnChallengeRepository } from './webauthn-challenges.js';

export interface Store {
  users: UserRepository;
  sessions: SessionRepository;
  secondFactors: SecondFactorRepository;
  clients: ClientRepository;
  resources: ResourceRepository;
  interactions: InteractionRepository;
  pushedAuthorizationRequests: PushedAuthorizationRequestRepository;
  grants: GrantRepository;
  deviceAuthorizations: DeviceAuthorizationRepository;
  dpopProofs: DPoPProofRepository;
  consents: ConsentRepository;
  signingKeys: SigningKeyRepository;
  backchannel: BackchannelRepository;
  refreshTokens: RefreshTokenRepository;
  audit: AuditRepository;
  statusLists: StatusListRepository;
  signInThrottles: SignInThrottleRepository;
  clientAssertions: ClientAssertionRepository;
  passkeys: PasskeyRepository;
  webauthnChallenges: WebAuthnChallengeRepository;
  /** Links mailed to people: resets, address verification and changes, invitations. */
  emailLinks: EmailLinkRepository;
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

export interface StoreOptions {
  /** Connections to PostgreSQL (TESSERA_DATABASE_POOL); SQLite has one. */
  poolSize?: number;
  /** Where the store reports what goes wrong outside a request (a lost idle connection). */
  log?: Logger;
}
