/**
 * The relying-party store's tables on PostgreSQL, the same as ./sqlite-schema.ts's (times are bigint
 * epoch milliseconds, read as numbers). The tables themselves are made by ./migrations.ts.
 */
import { bigint, index, pgTable, text } from 'drizzle-orm/pg-core';

const epochMs = (name: string) => bigint(name, { mode: 'number' });

export const rpSessions = pgTable(
  'rp_sessions',
  {
    /** SHA-256 of the cookie value: a dump of the table holds no usable cookie. */
    idDigest: text('id_digest').primaryKey(),
    sub: text('sub').notNull(),
    sid: text('sid'),
    email: text('email').notNull(),
    name: text('name').notNull(),
    idToken: text('id_token').notNull(),
    /** The person's access token for the app's API, for token exchange; NULL in sessions older than it. */
    accessToken: text('access_token'),
    accessTokenExpiresAt: epochMs('access_token_expires_at'),
    acr: text('acr'),
    /** A JSON array of RFC 8176 values. */
    amr: text('amr'),
    /** Epoch seconds, as the ID token's claim. */
    authTime: epochMs('auth_time'),
    csrfToken: text('csrf_token').notNull(),
    createdAt: epochMs('created_at').notNull(),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [
    index('rp_sessions_sid').on(t.sid),
    index('rp_sessions_sub').on(t.sub),
    index('rp_sessions_expiry').on(t.expiresAt),
  ],
);

export const rpLoginTransactions = pgTable(
  'rp_login_transactions',
  {
    keyDigest: text('key_digest').primaryKey(),
    state: text('state').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    /** Space-separated, as sent. */
    acrValues: text('acr_values'),
    maxAge: epochMs('max_age'),
    returnTo: text('return_to'),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('rp_login_transactions_expiry').on(t.expiresAt)],
);

export const rpUsedJtis = pgTable(
  'rp_used_jtis',
  {
    jti: text('jti').primaryKey(),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('rp_used_jtis_expiry').on(t.expiresAt)],
);

export const rpRevokedSessions = pgTable(
  'rp_revoked_sessions',
  {
    /** `sid:<sid>` or `sub:<sub>`. */
    key: text('key').primaryKey(),
    revokedAt: epochMs('revoked_at').notNull(),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('rp_revoked_sessions_expiry').on(t.expiresAt)],
);
