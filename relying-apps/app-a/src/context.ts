/** Everything a route of app A needs, built once in createApp and passed in. */
import type { ClockSkewMonitor, FetchLike, IssuerClient, JtiStore } from '@tessera/shared';
import type { Clock } from '@tessera/shared';
import type { AppAConfig } from './config.js';
import type { CookieNames } from './http/cookies.js';
import type { Logger } from '@tessera/shared';
import type { LoginTransactionStore } from './sessions/login-transactions.js';
import type { SessionStore } from './sessions/session-store.js';

export interface AppContext {
  config: AppAConfig;
  clock: Clock;
  log: Logger;
  /** Server-side HTTP to the issuer (discovery, JWKS, token endpoint); its `Date` headers go to `clockSkew`. */
  fetch: FetchLike;
  /** How far the issuer's clock is from ours, logged when it is large. */
  clockSkew: ClockSkewMonitor;
  issuer: IssuerClient;
  sessions: SessionStore;
  loginTransactions: LoginTransactionStore;
  /** Used logout-token `jti`s (OIDC Back-Channel Logout 1.0 §2.6). */
  jtiStore: JtiStore;
  cookies: CookieNames;
}
