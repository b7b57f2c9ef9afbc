/**
 * The issuer's tables. Times are integer milliseconds since the epoch. Every bearer secret
 * (session cookie, authorization code, client secret) is stored only as its SHA-256 digest.
 */

import { and, isNotNull, isNull } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable(
  'users',
  {
    /** The stable, opaque `sub` (OIDC Core §5.7: never reassigned, never the email). */
    id: text('id').primaryKey(),
    /** Lower-cased, so uniqueness is case-insensitive. */
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    /**
     * Whether the person showed they receive mail at `email` (followed a link sent there), or an
     * operator vouched for it (the CLI, the demo seed). Apps see it as `email_verified`.
     */
    emailVerified: integer('email_verified', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** May use the admin console (/admin); granted and taken back by the CLI only. */
    isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
    /** When an admin disabled the account; null while it may sign in. */
    disabledAt: integer('disabled_at'),
  },
  (t) => [uniqueIndex('users_email_unique').on(t.email)],
);

export const ssoSessions = sqliteTable(
  'sso_sessions',
  {
    /** The public session id, sent to apps as the `sid` claim. */
    id: text('id').primaryKey(),
    /** SHA-256 of the cookie secret; the secret itself is never stored. */
    secretDigest: text('secret_digest').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    authTime: integer('auth_time').notNull(),
    /**
     * How the person proved who they are at auth_time (RFC 8176 values): the issuer's own record,
     * the only source of the `amr` and `acr` it states. Sessions from before it was kept were
     * password sign-ins.
     */
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull().default(['pwd']),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    userAgent: text('user_agent').notNull(),
    ip: text('ip').notNull(),
    endedAt: integer('ended_at'),
    /**
     * SHA-256 of the FedCM cookie's value (derived from the session secret: http/cookies.ts), read
     * only by the FedCM endpoints. Null for sessions begun before FedCM: none until the next sign-in.
     */
    fedcmDigest: text('fedcm_digest'),
  },
  (t) => [
    uniqueIndex('sso_sessions_secret_unique').on(t.secretDigest),
    uniqueIndex('sso_sessions_fedcm_unique').on(t.fedcmDigest),
    index('sso_sessions_user').on(t.userId),
    // The expiry sweep's: sessions that ended, and sessions that expired without ending.
    index('sso_sessions_ended').on(t.endedAt).where(isNotNull(t.endedAt)),
    index('sso_sessions_expiry').on(t.expiresAt),
  ],
);

export const clients = sqliteTable('clients', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** 'confidential' | 'public' (RFC 6749 §2.1). */
  type: text('type').notNull(),
  /** 'first' | 'third': third-party clients are asked for consent. */
  party: text('party').notNull(),
  secretDigest: text('secret_digest'),
  redirectUris: text('redirect_uris', { mode: 'json' }).$type<string[]>().notNull(),
  postLogoutRedirectUris: text('post_logout_redirect_uris', { mode: 'json' }).$type<string[]>().notNull(),
  backchannelLogoutUri: text('backchannel_logout_uri'),
  allowedScopes: text('allowed_scopes', { mode: 'json' }).$type<string[]>().notNull(),
  /** Resource identifiers this client may ask tokens for; the only one is its default (protocol/resource.ts). */
  allowedResources: text('allowed_resources', { mode: 'json' }).$type<string[]>().notNull(),
  /** Grant types the client may use at the token endpoint (RFC 7591 §2). */
  grantTypes: text('grant_types', { mode: 'json' }).$type<string[]>().notNull().default(['authorization_code']),
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBound: integer('dpop_bound', { mode: 'boolean' }).notNull().default(false),
  /** Resources the client may exchange a person's access token for (RFC 8693 §2.1 `resource`). */
  exchangeTargets: text('exchange_targets', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /**
   * The client's public keys for private_key_jwt (RFC 7523 §2.2), held here (`jwks`) or published
   * by the client (`jwks_uri`), never both (OIDC Dynamic Client Registration §2). Such a client has
   * no secret.
   */
  jwks: text('jwks', { mode: 'json' }).$type<{ keys: Record<string, unknown>[] }>(),
  jwksUri: text('jwks_uri'),
  /** Every sign-in for this client needs a second factor or a passkey (acr at least ACR_MFA). */
  requireMfa: integer('require_mfa', { mode: 'boolean' }).notNull().default(false),
  /** RFC 9126 §6: its authorization requests are accepted only when pushed first. */
  requirePushedAuthorizationRequests: integer('require_pushed_authorization_requests', { mode: 'boolean' })
    .notNull()
    .default(false),
  /**
   * Origins (`scheme://host[:port]`) whose pages may ask for a FedCM assertion for this client; FedCM
   * is off for a client with none.
   */
  fedcmOrigins: text('fedcm_origins', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** RFC 7591 §2 `policy_uri` and `tos_uri`: shown by the browser's FedCM dialog (client metadata). */
  policyUri: text('policy_uri'),
  tosUri: text('tos_uri'),
  createdAt: integer('created_at').notNull(),
});

export const resources = sqliteTable('resources', {
  /** An absolute URI (RFC 8707 §2). */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** The scopes this API defines: what a machine client may be limited to (RFC 6749 §3.3). */
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull().default([]),
  createdAt: integer('created_at').notNull(),
});

/** A pending authorization request, waiting for sign-in or consent at the issuer. */
export const interactions = sqliteTable(
  'interactions',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the browser-binding cookie that started it: only that browser may finish it. */
    browserDigest: text('browser_digest').notNull(),
    /** The CSRF token its forms carry. */
    csrfToken: text('csrf_token').notNull(),
    /** The validated authorization request, or null for a sign-in started at the issuer itself. */
    request: text('request', { mode: 'json' }),
    /** Set once the person has signed in during this interaction (satisfies prompt=login). */
    sessionId: text('session_id'),
    /** For a sign-in with no app waiting: the issuer page it continues at (the device page). */
    returnTo: text('return_to'),
    /**
     * The person whose password was right, waiting to give their second factor: no session exists
     * before it is given, so a password alone opens nothing.
     */
    pendingUserId: text('pending_user_id'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('interactions_expiry').on(t.expiresAt)],
);

/**
 * DPoP proofs already used (RFC 9449 §11.1), by key thumbprint and `jti`, until they are too old to
 * be taken anyway: an insert is the arbiter, on every node.
 */
export const dpopProofs = sqliteTable(
  'dpop_proofs',
  {
    key: text('key').primaryKey(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('dpop_proofs_expiry').on(t.expiresAt)],
);

/**
 * A device authorization (RFC 8628): a device without a browser waits, polling with its device
 * code, while a person approves or denies it at the device page with its user code.
 */
export const deviceAuthorizations = sqliteTable(
  'device_authorizations',
  {
    /** SHA-256 of the device code. */
    digest: text('digest').primaryKey(),
    /** The user code, normalized (8 letters of RFC 8628 §6.1's base-20 alphabet, no dash). */
    userCode: text('user_code').notNull(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    scope: text('scope').notNull(),
    resource: text('resource').notNull(),
    /** The requesting device as the page shows it ("Firefox on Linux", or its user agent) and its IP. */
    deviceDescription: text('device_description').notNull(),
    deviceIp: text('device_ip').notNull(),
    /** 'pending', 'approved', 'denied' or 'redeemed'. */
    status: text('status').notNull(),
    /** Who approved or denied it, in which SSO session, signed in when. */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id'),
    authTime: integer('auth_time'),
    /** How that session was signed in when it approved (RFC 8176). */
    amr: text('amr', { mode: 'json' }).$type<string[]>(),
    /** The polling interval in seconds, raised by slow_down (RFC 8628 §3.5). */
    interval: integer('interval').notNull(),
    lastPolledAt: integer('last_polled_at'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('device_authorizations_user_code').on(t.userCode),
    index('device_authorizations_expiry').on(t.expiresAt),
  ],
);

/**
 * Pushed authorization requests (RFC 9126 §2): what a client pushed, until its request_uri is used
 * once (the row is deleted then: the delete is the arbiter) or it expires.
 */
export const pushedAuthorizationRequests = sqliteTable(
  'pushed_authorization_requests',
  {
    /** SHA-256 of the request_uri's random reference; the reference itself is never stored. */
    digest: text('digest').primaryKey(),
    /** The client that pushed it, the only one that may use it (RFC 9126 §2.2). */
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    /** The authorization request's parameters as pushed, without the client's credentials. */
    params: text('params', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('pushed_authorization_requests_expiry').on(t.expiresAt)],
);

export const authorizationCodes = sqliteTable(
  'authorization_codes',
  {
    /** SHA-256 of the code. */
    digest: text('digest').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    scope: text('scope').notNull(),
    resource: text('resource').notNull(),
    nonce: text('nonce'),
    codeChallenge: text('code_challenge').notNull(),
    authTime: integer('auth_time').notNull(),
    /** The session's methods (RFC 8176) when the code was issued. */
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull().default(['pwd']),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    consumedAt: integer('consumed_at'),
    /**
     * The page origin a FedCM assertion issued this code to; null for codes from the authorization
     * endpoint. Such a code has no redirect URI (stored as ''), and is redeemed without one.
     */
    origin: text('origin'),
  },
  (t) => [index('authorization_codes_expiry').on(t.expiresAt)],
);

/** What one redeemed code (later, one refresh-token family) granted a client. */
export const grants = sqliteTable(
  'grants',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id').notNull(),
    /** The code this grant was redeemed from: a replay of it revokes the grant. */
    codeDigest: text('code_digest'),
    scope: text('scope').notNull(),
    resource: text('resource').notNull(),
    /**
     * How the person had signed in when this was granted (RFC 8176): what every token of the grant
     * states, refreshed or exchanged, however the session is signed in later.
     */
    amr: text('amr', { mode: 'json' }).$type<string[]>().notNull().default(['pwd']),
    createdAt: integer('created_at').notNull(),
    /** Absolute end of the grant's refresh-token family. */
    expiresAt: integer('expires_at'),
    /**
     * The JWK thumbprint a public client's refresh tokens are bound to (RFC 9449 §5): every refresh
     * must carry a DPoP proof made with that key.
     */
    dpopJkt: text('dpop_jkt'),
    /** With offline_access the grant outlives its SSO session; without it, it ends with it. */
    offline: integer('offline', { mode: 'boolean' }).notNull().default(false),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    index('grants_session').on(t.sessionId),
    index('grants_code').on(t.codeDigest),
    index('grants_user').on(t.userId),
    // The expiry sweep's, one per way a grant ends: revoked, its refresh family past its absolute
    // end, or never refreshable (its one access token is its whole life).
    index('grants_revoked').on(t.revokedAt).where(isNotNull(t.revokedAt)),
    index('grants_expiry').on(t.expiresAt).where(isNotNull(t.expiresAt)),
    index('grants_unrefreshable').on(t.createdAt).where(isNull(t.expiresAt)),
  ],
);

/**
 * Access tokens issued (by `jti`), so that a revoked grant refuses them at userinfo. A token of
 * the client credentials grant has no grant (no person, no session): its client is recorded
 * instead, so deleting the client deletes its rows.
 */
export const accessTokens = sqliteTable(
  'access_tokens',
  {
    jti: text('jti').primaryKey(),
    grantId: text('grant_id').references(() => grants.id, { onDelete: 'cascade' }),
    clientId: text('client_id').references(() => clients.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
    /** Where its status lives (draft-ietf-oauth-status-list §6.2). */
    statusList: integer('status_list'),
    statusIndex: integer('status_index'),
  },
  (t) => [
    index('access_tokens_grant').on(t.grantId),
    // Only the revoked ones: rebuilding a list reads its revoked indices, at a cost that follows
    // the revocations, not the up to 2^20 tokens of the list; and issuing a token writes no entry.
    index('access_tokens_revoked_status').on(t.statusList, t.statusIndex).where(isNotNull(t.revokedAt)),
    index('access_tokens_expiry').on(t.expiresAt),
  ],
);

/** Scopes a person has allowed a third-party client. */
export const consents = sqliteTable(
  'consents',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.clientId] })],
);

export const signingKeys = sqliteTable('signing_keys', {
  /** RFC 7638 JWK thumbprint. */
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  /** 'next' | 'current' | 'retired'. */
  state: text('state').notNull(),
  publicJwk: text('public_jwk', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  /** The private JWK, encrypted with the key-encryption key (compact JWE, dir + A256GCM). */
  privateJwkEncrypted: text('private_jwk_encrypted').notNull(),
  createdAt: integer('created_at').notNull(),
  activatedAt: integer('activated_at'),
  retiredAt: integer('retired_at'),
});

/**
 * Back-channel logout tokens waiting to be delivered (OIDC Back-Channel Logout 1.0 §2.7).
 * Kept in the store so that deliveries pending at a crash are retried after restart.
 */
export const backchannelDeliveries = sqliteTable(
  'backchannel_deliveries',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    uri: text('uri').notNull(),
    logoutToken: text('logout_token').notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
    failedAt: integer('failed_at'),
    lastError: text('last_error'),
  },
  // Only the pending ones: delivered and failed rows stay as a record, and the worker's polls must
  // not walk past them (their number grows with every logout ever sent).
  (t) => [
    index('backchannel_deliveries_due')
      .on(t.nextAttemptAt)
      .where(and(isNull(t.deliveredAt), isNull(t.failedAt))!),
    // The expiry sweep's: settled deliveries, kept a while as a record.
    index('backchannel_deliveries_delivered').on(t.deliveredAt).where(isNotNull(t.deliveredAt)),
    index('backchannel_deliveries_failed').on(t.failedAt).where(isNotNull(t.failedAt)),
  ],
);

/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): opaque, stored as digests. The tokens of one
 * grant form a family; each use rotates to a new token, and a rotated token presented again
 * revokes the whole family (§4.14.2).
 */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    digest: text('digest').primaryKey(),
    grantId: text('grant_id')
      .notNull()
      .references(() => grants.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    /** Idle limit: this token must be used before then. */
    expiresAt: integer('expires_at').notNull(),
    /** Set when it was exchanged for its successor. */
    rotatedAt: integer('rotated_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('refresh_tokens_grant').on(t.grantId)],
);

/**
 * Token status lists (draft-ietf-oauth-status-list): each access token gets an index in a list;
 * revoking the token sets its bit.
 */
export const statusLists = sqliteTable('status_lists', {
  id: integer('id').primaryKey(),
  /** Number of entries (bits) in the list. */
  size: integer('size').notNull(),
  /** The next index to hand out. */
  nextIndex: integer('next_index').notNull(),
  createdAt: integer('created_at').notNull(),
  /** Changes whenever a bit is set, so the signed list is rebuilt only when needed. */
  updatedAt: integer('updated_at').notNull(),
});

/** Security-relevant events, for the audit trail. */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    subject: text('subject'),
    clientId: text('client_id'),
    ip: text('ip'),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_events_at').on(t.at),
    index('audit_events_type').on(t.type),
    // The admin console's filters by person and by client.
    index('audit_events_subject').on(t.subject),
    index('audit_events_client').on(t.clientId),
  ],
);

/**
 * Failed sign-in counters, by account and by IP (OWASP ASVS V2.2.1), kept in the store so a
 * restart does not reset them.
 */
export const signInThrottles = sqliteTable(
  'sign_in_throttles',
  {
    /** 'account:<email digest>' or 'ip:<address>'. */
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    firstFailureAt: integer('first_failure_at').notNull(),
    lastFailureAt: integer('last_failure_at').notNull(),
    /** No sign-in is tried for this key before then. */
    blockedUntil: integer('blocked_until'),
  },
  // The sweep of forgotten counters reads the quiet ones only, not every key that failed lately.
  (t) => [index('sign_in_throttles_last_failure').on(t.lastFailureAt)],
);

/**
 * Sign-in attempts in flight: each holds a place on its account and IP keys from before its
 * password is checked until its outcome is counted, so parallel attempts cannot all pass one
 * check, yet an attempt still in flight is never counted as a failure. A place left by a process
 * that died lapses at `expires_at`.
 */
export const signInReservations = sqliteTable(
  'sign_in_reservations',
  {
    /** One random id per attempt, shared by its places on each key. */
    attempt: text('attempt').notNull(),
    /** A key of sign_in_throttles. */
    key: text('key').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.attempt, t.key] }), index('sign_in_reservations_key').on(t.key)],
);

/**
 * The `jti`s of client assertions already used (RFC 7523 §3 item 7), each kept until its assertion
 * has expired: the insert of one is the arbiter, so an assertion authenticates one request only,
 * whichever node it reaches.
 */
export const clientAssertions = sqliteTable(
  'client_assertions',
  {
    /** The client id, a space, the `jti`: `jti` is unique per issuer (RFC 7519 §4.1.7), here the client. */
    key: text('key').primaryKey(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('client_assertions_expiry').on(t.expiresAt)],
);

/**
 * Passkeys (WebAuthn Level 3 public key credentials) a person registered, found by the credential
 * id the authenticator returns. Only the public key is here: the private key never leaves the
 * authenticator.
 */
export const passkeys = sqliteTable(
  'passkeys',
  {
    /** The credential id, base64url (WebAuthn §6.1: at most 1023 bytes). */
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The COSE_Key the authenticator attested at registration, base64url. */
    publicKey: text('public_key').notNull(),
    /** The signature counter last seen; 0 for authenticators that keep none (WebAuthn §6.1.1). */
    counter: integer('counter').notNull(),
    /** Hints for the browser, as the authenticator reported them (AuthenticatorTransport). */
    transports: text('transports', { mode: 'json' }).$type<string[]>().notNull(),
    /** 'singleDevice' (a hardware-bound key: amr hwk) or 'multiDevice' (synced: amr swk). */
    deviceType: text('device_type').notNull(),
    backedUp: integer('backed_up', { mode: 'boolean' }).notNull(),
    /** The person's own name for it. */
    name: text('name').notNull(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('passkeys_user').on(t.userId)],
);

/**
 * WebAuthn challenges issued and not yet answered: single use (an answer deletes its row), short
 * lived, and bound to what they were issued for — a sign-in interaction, or a session.
 */
export const webauthnChallenges = sqliteTable(
  'webauthn_challenges',
  {
    /** The challenge itself, base64url: it is no secret (the page shows it), only unguessable. */
    challenge: text('challenge').primaryKey(),
    /** 'registration' | 'authentication'. */
    ceremony: text('ceremony').notNull(),
    /** The interaction id (sign-in) or session id (account page) it was issued to. */
    boundTo: text('bound_to').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('webauthn_challenges_expiry').on(t.expiresAt)],
);

/**
 * A person's TOTP authenticator (RFC 6238): its secret encrypted with the key-encryption key, as
 * the signing keys are; active once a code from it was entered (`confirmed_at`). `last_used_step`
 * is the time step of the last code accepted: a code of that step or an earlier one is refused, so
 * each code is good once (RFC 6238 §5.2), and the update that raises it is the arbiter between
 * concurrent uses.
 */
export const totpAuthenticators = sqliteTable('totp_authenticators', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretEncrypted: text('secret_encrypted').notNull(),
  createdAt: integer('created_at').notNull(),
  confirmedAt: integer('confirmed_at'),
  lastUsedStep: integer('last_used_step'),
});

/**
 * A person's recovery codes, each stored as its SHA-256 digest, used once (`used_at`, set by an
 * update that only an unused code passes); a new set replaces the old.
 */
export const recoveryCodes = sqliteTable(
  'recovery_codes',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    digest: text('digest').notNull(),
    createdAt: integer('created_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [primaryKey({ columns: [t.userId, t.digest] })],
);

/**
 * Links mailed to a person, one table for every purpose (a password reset, verifying an email
 * address, a change of address, an invitation): only the SHA-256 digest of the link's token is
 * kept, so a copy of the database opens nothing. `holder` is whose link it is — the person's `sub`,
 * or `email:<address>` for an address with no account (an invitation) — and a newer link of the
 * same purpose for the same holder voids the older (`used_at` set). A use is a conditional update
 * (`… WHERE used_at IS NULL AND expires_at > now`), so of concurrent uses exactly one wins.
 */
export const emailLinks = sqliteTable(
  'email_links',
  {
    digest: text('digest').primaryKey(),
    /** 'password_reset' | 'email_verification' | 'email_change' | 'invitation'. */
    purpose: text('purpose').notNull(),
    holder: text('holder').notNull(),
    /** The account it acts on, if any. */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** The address it was sent to, lower-cased (for a change of address: the new one). */
    email: text('email').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** When it was used, or voided by a newer link or by a reset: from then on it opens nothing. */
    usedAt: integer('used_at'),
  },
  (t) => [
    index('email_links_holder').on(t.purpose, t.holder),
    index('email_links_user').on(t.userId),
    index('email_links_expiry').on(t.expiresAt),
  ],
);
