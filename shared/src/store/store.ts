/** The relying-party store's surface and settings, the same on both engines. */
import type {
  AppSession,
  LoginTransaction,
  LoginTransactionStore,
  NewSession,
  RevokedSessions,
  SessionStore,
} from '../rp/server-state.js';
import type { Clock } from '../time/clock.js';
import type { JtiStore } from '../verify/jti-store.js';

export interface RelyingPartyStoreOptions {
  clock?: Clock;
  /** Lifetime of an app session, in seconds (default 8 hours). */
  sessionTtlSec?: number;
  /** How long a sign-in may take, in seconds (default 600, as the issuer's interaction). */
  loginTransactionTtlSec?: number;
  /**
   * Longest a used `jti` is kept, in seconds, whatever the token's `exp` (default 86 400): a logout
   * token lives minutes; a longer `exp` is the issuer's mistake and must not pin rows.
   */
  jtiTtlSec?: number;
  /** How long a revoked session is remembered, in seconds: at least the longest access-token lifetime. */
  revocationWindowSec?: number;
}

export type Settings = Required<Omit<RelyingPartyStoreOptions, 'clock'>> & { clock: Clock };

export function settings(options: RelyingPartyStoreOptions): Settings {
  return {
    clock: options.clock ?? { now: () => Date.now() },
    sessionTtlSec: options.sessionTtlSec ?? 8 * 3600,
    loginTransactionTtlSec: options.loginTransactionTtlSec ?? 600,
    jtiTtlSec: options.jtiTtlSec ?? 86_400,
    revocationWindowSec: options.revocationWindowSec ?? 900,
  };
}

/** What one engine provides; ./index.ts adds the periodic sweep. */
export interface EngineStore {
  engine: 'sqlite' | 'postgres';
  sessions: SessionStore;
  loginTransactions: LoginTransactionStore;
  /** Used logout-token `jti`s (OIDC Back-Channel Logout 1.0 §2.6), kept across restarts and processes. */
  jtis: JtiStore;
  revokedSessions: RevokedSessions;
  /**
   * Deletes, in each table, up to `limit` rows whose time has passed, found through the expiry
   * indexes; returns how many each table lost (a sweep goes on while one lost `limit`).
   */
  sweepBatch(limit: number): Promise<number[]>;
  close(): Promise<void>;
}

/** A session's columns, on either engine: NULL for what it lacks. */
export function sessionColumns(session: NewSession) {
  return {
    sub: session.sub,
    sid: session.sid ?? null,
    email: session.email,
    name: session.name,
    idToken: session.idToken,
    accessToken: session.accessToken ?? null,
    accessTokenExpiresAt: session.accessTokenExpiresAt ?? null,
    acr: session.acr ?? null,
    amr: session.amr === undefined ? null : JSON.stringify(session.amr),
    authTime: session.authTime ?? null,
  };
}

/** A stored session's row, as both engines read it. */
export type SessionRow = ReturnType<typeof sessionColumns> & {
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
};

/** The session a row holds: a NULL column is a property left out. */
export function sessionFromRow(row: SessionRow): AppSession {
  const amr: unknown = row.amr === null ? undefined : JSON.parse(row.amr);
  return {
    sub: row.sub,
    sid: row.sid ?? undefined,
    email: row.email,
    name: row.name,
    idToken: row.idToken,
    accessToken: row.accessToken ?? undefined,
    accessTokenExpiresAt: row.accessTokenExpiresAt ?? undefined,
    ...(row.acr === null ? {} : { acr: row.acr }),
    ...(Array.isArray(amr) && amr.every((v) => typeof v === 'string') ? { amr } : {}),
    ...(row.authTime === null ? {} : { authTime: row.authTime }),
    csrfToken: row.csrfToken,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
  };
}

/** A login transaction's columns, on either engine. */
export function transactionColumns(transaction: LoginTransaction) {
  return {
    state: transaction.state,
    nonce: transaction.nonce,
    codeVerifier: transaction.codeVerifier,
    acrValues: transaction.acrValues === undefined ? null : transaction.acrValues.join(' '),
    maxAge: transaction.maxAgeSec ?? null,
    returnTo: transaction.returnTo ?? null,
  };
}

/** The login transaction a row holds. */
export function transactionFromRow(row: ReturnType<typeof transactionColumns>): LoginTransaction {
  return {
    state: row.state,
    nonce: row.nonce,
    codeVerifier: row.codeVerifier,
    ...(row.acrValues === null ? {} : { acrValues: row.acrValues.split(' ').filter((v) => v !== '') }),
    ...(row.maxAge === null ? {} : { maxAgeSec: row.maxAge }),
    ...(row.returnTo === null ? {} : { returnTo: row.returnTo }),
  };
}

/** Whether a revoked session's or subject's row refuses a token with these claims. */
export function refuses(
  rows: readonly { key: string; revokedAt: number }[],
  claims: { sid?: string | undefined; iat: number },
): boolean {
  return rows.some(
    (row) =>
      (claims.sid !== undefined && row.key === `sid:${claims.sid}`) ||
      // A new sign-in after the logout gets tokens issued later: those stay good.
      (row.key.startsWith('sub:') && claims.iat * 1000 <= row.revokedAt),
  );
}
