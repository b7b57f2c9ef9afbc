/**
 * Digests of the issuer's database, to show that a refused request changed no stored data:
 * SHA-256 over every row of each durable table, in primary-key order (on either engine; a
 * digest is compared only with another of the same database).
 */
import { createHash } from 'node:crypto';

/** What the digests need of a database: the store's engine-neutral query. */
export interface Queryable {
  query(text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

/** Tables whose rows only a successful request (or an operator) may change, each with its primary key. */
export const DURABLE_TABLES = {
  users: 'id',
  sso_sessions: 'id',
  clients: 'id',
  resources: 'id',
  authorization_codes: 'digest',
  pushed_authorization_requests: 'digest',
  grants: 'id',
  access_tokens: 'jti',
  refresh_tokens: 'digest',
  consents: 'user_id, client_id',
  signing_keys: 'kid',
  status_lists: 'id',
  client_assertions: 'key',
  passkeys: 'id',
  totp_authenticators: 'user_id',
  recovery_codes: 'user_id, digest',
  email_links: 'digest',
} as const;

/**
 * Tables a refused request may legitimately write: an interaction started by a sign-in page,
 * the audit trail of a failed attempt, the sign-in throttle counters (a wrong password must be
 * counted), back-channel deliveries sent in the background, and the DPoP proofs a request used up
 * (a proof is good for one request, whatever comes of it), and the WebAuthn challenges a sign-in
 * page issues or an answer uses up (single use, whatever comes of the answer). They are checked for bounded growth per
 * request instead.
 */
export const SCRATCH_TABLES = [
  'interactions',
  'audit_events',
  'sign_in_throttles',
  'backchannel_deliveries',
  'dpop_proofs',
  'webauthn_challenges',
] as const;

/** One SHA-256 (base64url) per durable table, over its rows in primary-key order. */
export async function tableDigests(database: Queryable): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, key] of Object.entries(DURABLE_TABLES)) {
    const hash = createHash('sha256');
    for (const row of await database.query(`select * from ${table} order by ${key}`)) {
      hash.update(
        JSON.stringify(Object.values(row), (_k, v: unknown) =>
          typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('base64') : v,
        ),
      );
      hash.update('\n');
    }
    out[table] = hash.digest('base64url');
  }
  return out;
}

/** Row counts, e.g. of the scratch tables. */
export async function rowCounts(
  database: Queryable,
  tables: readonly string[] = SCRATCH_TABLES,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await database.query(`select count(*) as n from ${table}`))[0]?.n);
  return out;
}

/** SHA-256 base64url of a bearer secret: how the store finds refresh tokens and sessions. */
export const secretDigest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
