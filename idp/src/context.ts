/** What every route and protocol module is given: nothing reads globals. */
import type { Clock } from '@tessera/shared';
import type { Config } from './config/config.js';
import type { PasswordHasher } from './crypto/passwords.js';
import type { KeyRing } from './keys/key-ring.js';
import type { Logger } from '@tessera/shared';
import type { Store } from './store/index.js';
import type { BackchannelNotifier } from './workers/backchannel-delivery.js';
import type { StatusLists } from './status-list/status-lists.js';
import type { ClientKeySets } from './protocol/client-keys.js';
import type { IssuerMetrics } from './metrics/metrics.js';
import type { Mailer } from './mail/mailer.js';

export interface IssuerContext {
  config: Config;
  store: Store;
  keys: KeyRing;
  clock: Clock;
  passwords: PasswordHasher;
  log: Logger;
  backchannel: BackchannelNotifier;
  /** Token status lists (draft-ietf-oauth-status-list-21): indices, revocations, signed lists. */
  statusLists: StatusLists;
  /** The keys of private_key_jwt clients (inline, or fetched from their jwks_uri and cached). */
  clientKeys: ClientKeySets;
  /** What operators scrape (metrics/metrics.ts): counted where each outcome is decided. */
  metrics: IssuerMetrics;
  /** Sends the issuer's mail in the background (mail/mailer.ts). */
  mailer: Mailer;
}
