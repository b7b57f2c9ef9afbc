/** What other workspace packages (the demo launcher, benchmarks) may use of the issuer. */
export { loadConfig, ConfigError, type Config } from './config.js';
export { systemClock, type Clock } from './clock.js';
export { createIssuer, type Issuer } from './issuer.js';
export { createPasswordHasher } from './crypto/passwords.js';
export { openStore, type Store, type Client } from './store/index.js';
export {
  registerUser,
  registerClient,
  updateClient,
  registerResource,
  RegistrationError,
  type ClientInput,
} from './protocol/registration.js';
