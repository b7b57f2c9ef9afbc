/** What other workspace packages (the demo launcher, benchmarks) may use of the issuer. */
export { loadConfig } from './config/load-config.js';
export { ConfigError, systemClock } from '@tessera/shared';
export { createIssuer, type Issuer } from './issuer.js';
export { createPasswordHasher } from './crypto/passwords.js';
export { openStore, sqliteOf } from './store/index.js';
export { checkNewPassword } from './protocol/password-policy.js';
export {
  registerUser,
  registerClient,
  updateClient,
  registerResource,
  type ClientInput,
} from './protocol/registration.js';
export { listOutbox, readOutboxMessage, type OutboxMessage } from './mail/outbox.js';
