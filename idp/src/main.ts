/** Starts the issuer: configuration, store, keys, then the HTTP server. */
import { serve } from '@hono/node-server';
import { answerClientErrors, createLogger } from '@tessera/shared/node';
import type { Config } from './config/config.js';
import { ConfigError } from '@tessera/shared';
import { loadConfig } from './config/load-config.js';
import { createIssuer } from './issuer.js';

async function main(): Promise<void> {
  const log = createLogger('idp');
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (config.usingDemoKeyEncryptionKey) {
    log.warn('config.demo_key_encryption_key', {
      message:
        'TESSERA_KEY_ENCRYPTION_KEY is not set: private keys are encrypted with the public demo key. Never do this in production.',
    });
  }
  const issuer = await createIssuer(config, { log });
  const server = serve({ fetch: issuer.app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info('issuer.listening', { issuer: config.issuer, address: `${info.address}:${info.port}` });
  });
  answerClientErrors(server);
  const stop = () => {
    server.close(() => {
      issuer.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  const what = e instanceof ConfigError ? 'configuration error' : 'failed to start';
  process.stderr.write(`tessera: ${what}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
