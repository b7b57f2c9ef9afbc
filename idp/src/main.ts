/** Starts the issuer: configuration, store, keys, then the HTTP server; SIGINT / SIGTERM stop it. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, runServer } from '@tessera/shared/node';
import { loadConfig } from './config/load-config.js';
import { createIssuer } from './issuer.js';

runServer('tessera', async () => {
  const log = createLogger('idp');
  const config = loadConfig();
  if (config.usingDemoKeyEncryptionKey) {
    log.warn('config.demo_key_encryption_key', {
      message:
        'TESSERA_KEY_ENCRYPTION_KEY is not set: private keys are encrypted with the public demo key. ' +
        'Never do this in production.',
    });
  }
  const issuer = await createIssuer(config, { log });
  const server = createServer(issuer.listener);
  server.listen(config.port, config.host, () => {
    const info = server.address() as AddressInfo;
    log.info('issuer.listening', { issuer: config.issuer, address: `${info.address}:${info.port}` });
  });
  return { server, onClose: () => issuer.close() };
});
