/**
 * What a relying party's server keeps between requests, as interfaces: a confidential client's
 * sessions and login transactions, and a stateless API's memory of ended sessions. The apps hold
 * in-memory versions for tests; `@tessera/shared/store` keeps them in a database, so a restart
 * keeps people signed in and keeps ended sessions ended. Browser-safe: types only.
 */
import type { AccessTokenClaims } from '../protocol.js';

/** What an app keeps about a signed-in person. */
export interface AppSession {
  /** The issuer's subject identifier. */
  sub: string;
  /** The issuer's session id (`sid`, OIDC Front/Back-Channel Logout), if the ID token had one. */
  sid: string | undefined;
  email: string;
  name: string;
  /** The ID token, sent back as `id_token_hint` at sign-out (RP-Initiated Logout §2). */
  idToken: string;
  /**
   * The person's access token for the app's own API (RFC 9068), kept server-side so the app can
   * exchange it for a token for another API (RFC 8693); undefined for a session opened without one.
   */
  accessToken: string | undefined;
  /** When `accessToken` expires (its `exp`), epoch milliseconds. */
  accessTokenExpiresAt: number | undefined;
  /** How strongly the person signed in: the ID token's `acr` (OIDC Core §2), when it stated one. */
  acr?: string;
  /** How the person signed in: the ID token's `amr` (RFC 8176), when it stated them. */
  amr?: string[];
  /** When the person last authenticated at the issuer: the ID token's `auth_time`, epoch seconds. */
  authTime?: number;
  /** The synchronizer token the sign-out form must carry (OWASP CSRF Prevention). */
  csrfToken: string;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
}

export type NewSession = Omit<AppSession, 'csrfToken' | 'createdAt' | 'expiresAt'>;

/** An app's sessions: the browser holds only an opaque random id in a cookie, the store its SHA-256. */
export interface SessionStore {
  /** Starts a session, always under a new id (no fixation); returns the id for the cookie. */
  create(session: NewSession): Promise<string>;
  /** The live session with this cookie value, if any. */
  find(id: string): Promise<AppSession | undefined>;
  destroy(id: string): Promise<void>;
  /**
   * Ends every session opened in the issuer session `sid` (OIDC Back-Channel Logout 1.0 §2.7);
   * when `sub` is given too, only those of that subject. Returns how many ended.
   */
  endByIssuerSession(sid: string, sub?: string): Promise<number>;
  /** Ends every session of the subject (a logout token with `sub` and no `sid`). Returns how many ended. */
  endBySubject(sub: string): Promise<number>;
}

/** What `/login` must remember until the browser comes back to `/callback`. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The `acr_values` asked for (a step-up): the ID token's `acr` must meet them (OIDC Core §3.1.2.1). */
  acrValues?: string[];
  /** The `max_age` asked for, in seconds: the ID token's `auth_time` must be that recent. */
  maxAgeSec?: number;
  /** The app's own path to land on once signed in; its home page when absent. */
  returnTo?: string;
}

export interface LoginTransactionStore {
  /** Keeps a transaction; returns the key for the cookie. */
  save(transaction: LoginTransaction): Promise<string>;
  /** Returns the transaction and forgets it: a response can be used once. */
  take(key: string): Promise<LoginTransaction | undefined>;
}

/**
 * Sessions the issuer has said are over (back-channel logout), for an API that verifies access
 * tokens by signature alone: remembered for as long as a token of such a session can live.
 */
export interface RevokedSessions {
  /** Refuses from now on every access token carrying this `sid`; resolves once that is kept. */
  revokeSession(sid: string): Promise<void>;
  /** Refuses every access token of this subject issued up to now (a logout token without `sid`). */
  revokeSubject(sub: string): Promise<void>;
  /** Whether a verified access token belongs to a revoked session or subject. */
  isRevoked(claims: AccessTokenClaims): Promise<boolean>;
}
