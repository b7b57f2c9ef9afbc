/**
 * Digests of the issuer's database, to show that a refused request changed no stored data:
 * SHA-256 over every row of each durable table, in primary-key order (on either engine; a
 * digest is compared only with another of the same database).
 */
import { createHash } from 'node:crypto';

/** What the digests need of a database: the store's engine-neutral query, and which engine it is. */
export interface Queryable {
  query(text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  engine?: 'sqlite' | 'postgres';
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

/**
 * PostgreSQL digests every table in one statement, each over its rows' text in primary-key order:
 * one round trip instead of one per table, which the fuzzer pays twice per request.
 */
const PG_DIGESTS = Object.entries(DURABLE_TABLES)
  .map(([table, key]) => {
    const order = key
      .split(',')
      .map((column) => `x.${column.trim()}`)
      .join(', ');
    const rows = `coalesce(string_agg(x::text, E'\\n' order by ${order}), '')`;
    return `select '${table}' as t, encode(sha256(convert_to(${rows}, 'UTF8')), 'base64') as d from ${table} x`;
  })
  .join(' union all ');

/** One SHA-256 per durable table, over its rows in primary-key order. */
export async function tableDigests(database: Queryable): Promise<Record<string, string>> {
  if (database.engine === 'postgres') {
    const rows = await database.query(PG_DIGESTS);
    return Object.fromEntries(Object.keys(DURABLE_TABLES).map((t) => [t, String(rows.find((r) => r.t === t)?.d)]));
  }
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
  // One statement on either engine: a round trip per table would be most of a fuzz run's time.
  const [row] = await database.query(`select ${tables.map((t) => `(select count(*) from ${t}) as ${t}`).join(', ')}`);
  return Object.fromEntries(tables.map((t) => [t, Number(row?.[t])]));
}

/** SHA-256 base64url of a bearer secret: how the store finds refresh tokens and sessions. */
export const secretDigest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
