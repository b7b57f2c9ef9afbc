/**
 * The relying-party store's schema, as numbered steps applied at start-up on either engine. Four
 * small tables do not need drizzle-kit's snapshots and generated folders per dialect: each step is
 * written once, with the one type that differs (epoch milliseconds: INTEGER on SQLite, BIGINT on
 * PostgreSQL). The version applied is kept in `rp_schema`; a store refuses a database whose schema
 * is newer than the steps it knows (a newer release wrote it), rather than misread its rows.
 * ./sqlite-schema.ts and ./pg-schema.ts describe the same tables for drizzle's queries; the store
 * tests, which run on both engines, read and write every column of them.
 */

export type Dialect = 'sqlite' | 'postgres';

/** Step n (1-based) brings the schema to version n. */
const STEPS: ReadonlyArray<(epochMs: string) => string[]> = [
  (epochMs) => [
    `CREATE TABLE rp_sessions (
      id_digest TEXT PRIMARY KEY, sub TEXT NOT NULL, sid TEXT, email TEXT NOT NULL, name TEXT NOT NULL,
      id_token TEXT NOT NULL, csrf_token TEXT NOT NULL,
      created_at ${epochMs} NOT NULL, expires_at ${epochMs} NOT NULL)`,
    'CREATE INDEX rp_sessions_sid ON rp_sessions (sid)',
    'CREATE INDEX rp_sessions_sub ON rp_sessions (sub)',
    'CREATE INDEX rp_sessions_expiry ON rp_sessions (expires_at)',
    `CREATE TABLE rp_login_transactions (
      key_digest TEXT PRIMARY KEY, state TEXT NOT NULL, nonce TEXT NOT NULL, code_verifier TEXT NOT NULL,
      expires_at ${epochMs} NOT NULL)`,
    'CREATE INDEX rp_login_transactions_expiry ON rp_login_transactions (expires_at)',
    `CREATE TABLE rp_used_jtis (jti TEXT PRIMARY KEY, expires_at ${epochMs} NOT NULL)`,
    'CREATE INDEX rp_used_jtis_expiry ON rp_used_jtis (expires_at)',
    `CREATE TABLE rp_revoked_sessions (
      key TEXT PRIMARY KEY, revoked_at ${epochMs} NOT NULL, expires_at ${epochMs} NOT NULL)`,
    'CREATE INDEX rp_revoked_sessions_expiry ON rp_revoked_sessions (expires_at)',
  ],
  // The person's access token, for token exchange; sessions opened before have none (NULL).
  (epochMs) => [
    'ALTER TABLE rp_sessions ADD COLUMN access_token TEXT',
    `ALTER TABLE rp_sessions ADD COLUMN access_token_expires_at ${epochMs}`,
  ],
  // How the person signed in (acr, amr, auth_time), and what a step-up sign-in asked for; rows
  // written before have none (NULL), as an ID token that stated none.
  (epochMs) => [
    'ALTER TABLE rp_sessions ADD COLUMN acr TEXT',
    'ALTER TABLE rp_sessions ADD COLUMN amr TEXT',
    `ALTER TABLE rp_sessions ADD COLUMN auth_time ${epochMs}`,
    'ALTER TABLE rp_login_transactions ADD COLUMN acr_values TEXT',
    `ALTER TABLE rp_login_transactions ADD COLUMN max_age ${epochMs}`,
    'ALTER TABLE rp_login_transactions ADD COLUMN return_to TEXT',
  ],
];

export const SCHEMA_VERSION = STEPS.length;

export const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS rp_schema (version INTEGER NOT NULL)';

/** The statements that bring a database at `from` to the newest version, ending with the version's record. */
export function migrationStatements(dialect: Dialect, from: number): string[] {
  if (from > SCHEMA_VERSION) {
    throw new Error(
      `the relying-party store's schema is at version ${from}, newer than this program knows ` +
        `(${SCHEMA_VERSION}): run the release that wrote it`,
    );
  }
  if (from === SCHEMA_VERSION) return [];
  const epochMs = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    ...STEPS.slice(from).flatMap((step) => step(epochMs)),
    'DELETE FROM rp_schema',
    `INSERT INTO rp_schema (version) VALUES (${SCHEMA_VERSION})`,
  ];
}
