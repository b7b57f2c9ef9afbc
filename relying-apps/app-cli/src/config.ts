/**
 * The command-line app's configuration, from the environment: the issuer it signs in at, the API it
 * calls (app B's), and its client id. A bad value stops it with a message naming the variable.
 */
import { envAppOrigin, envClientId, envIssuerIdentifier, type EnvVariables } from '@tessera/shared';

export { ConfigError } from '@tessera/shared';

export interface AppCliConfig {
  /** The issuer identifier: discovery is fetched from it. */
  issuer: string;
  /** App B's origin: its API, and the resource (RFC 8707) the access token is asked for. */
  appBUrl: string;
  /** The public client this app signs in as (registered for the device grant). */
  clientId: string;
  /** What it asks for: who the person is, to greet them, and app B's API. */
  scope: string;
}

export function loadConfig(env: EnvVariables = process.env): AppCliConfig {
  return {
    issuer: envIssuerIdentifier(env, 'TESSERA_ISSUER', 'http://idp.localhost:4000'),
    appBUrl: envAppOrigin(env, 'APP_B_URL', 'http://app-b.localhost:4002').origin,
    clientId: envClientId(env, 'APP_CLI_CLIENT_ID', 'app-cli'),
    scope: 'openid profile email',
  };
}
