/** What every route and protocol module is given: nothing reads globals. */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { PasswordHasher } from './crypto/passwords.js';
import type { KeyRing } from './keys/key-ring.js';
import type { Logger } from './log.js';
import type { Store } from './store/index.js';
import type { BackchannelNotifier } from './protocol/backchannel-logout.js';

export interface IssuerContext {
  config: Config;
  store: Store;
  keys: KeyRing;
  clock: Clock;
  passwords: PasswordHasher;
  log: Logger;
  backchannel: BackchannelNotifier;
}
