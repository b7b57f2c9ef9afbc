/** The store on PostgreSQL: the same repositories' contracts as SQLite's (../index.ts), on a pool. */
import type { Store, StoreOptions } from '../store.js';
import { auditRepository } from './audit.js';
import { backchannelRepository } from './backchannel.js';
import { clientAssertionRepository } from './client-assertions.js';
import { clientRepository, resourceRepository } from './clients.js';
import { consentRepository } from './consents.js';
import { openPostgres } from './database.js';
import { grantRepository } from './grants.js';
import { deviceAuthorizationRepository } from './device-authorizations.js';
import { dpopProofRepository } from './dpop-proofs.js';
import { emailLinkRepository } from './email-links.js';
import { interactionRepository } from './interactions.js';
import { pushedAuthorizationRequestRepository } from './pushed-authorization-requests.js';
import { refreshTokenRepository } from './refresh-tokens.js';
import { secondFactorRepository } from './second-factors.js';
import { sessionRepository } from './sessions.js';
import { signInThrottleRepository } from './sign-in-throttles.js';
import { signingKeyRepository } from './signing-keys.js';
import { statusListRepository } from './status-lists.js';
import { passkeyRepository } from './passkeys.js';
import { userRepository } from './users.js';
import { webauthnChallengeRepository } from './webauthn-challenges.js';

/** Opens the store on the PostgreSQL database at `url` (migrated as needed: ./migrate.ts). */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const database = await openPostgres(url, options);
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
    signingKeys: signingKeyRepository(db),
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
