/** The issuer's configuration: the type in ./config/config.ts, the loader in ./config/load-config.ts. */
export { ConfigError, isLoopbackHost } from '@tessera/shared';
export { type Config, DEMO_KEY_ENCRYPTION_KEY } from './config/config.js';
export { loadConfig } from './config/load-config.js';
