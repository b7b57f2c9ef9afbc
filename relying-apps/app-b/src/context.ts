/** Everything a route of app B's server needs, built once in createApp and passed in. */
import type { ClockSkewMonitor, IssuerClient, JtiStore, StatusListChecker } from '@tessera/shared';
import type { Clock } from '@tessera/shared';
import type { AppBConfig } from './config.js';
import type { Logger } from '@tessera/shared';
import type { RevokedSessions } from './revoked-sessions.js';

export interface AppContext {
  config: AppBConfig;
  clock: Clock;
  log: Logger;
  /** How far the issuer's clock is from ours, logged when it is large. */
  clockSkew: ClockSkewMonitor;
  issuer: IssuerClient;
  revoked: RevokedSessions;
  /** Used logout-token `jti`s (OIDC Back-Channel Logout 1.0 §2.6). */
  jtiStore: JtiStore;
  /** The issuer's token status lists, when the API checks them (config.checkStatusList). */
  statusLists?: StatusListChecker;
  /** The bundled browser code, built at start-up. */
  browserBundle: Promise<string>;
}
