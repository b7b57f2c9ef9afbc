/**
 * Starts the issuer: configuration, store, keys, then the HTTP server; SIGINT / SIGTERM stop it.
 * With TESSERA_WORKERS above 1 this process is the primary of a cluster (cluster.ts), and each
 * worker it forks runs this file again and serves.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, exitOnStartFailure, runServer } from '@tessera/shared/node';
import { runCluster, workerLogger } from './cluster.js';
import type { Config } from './config/config.js';
import { loadConfig } from './config/load-config.js';
import { createIssuer, prepareDatabase } from './issuer.js';

const log = cluster.isWorker ? workerLogger(createLogger('idp')) : createLogger('idp');

/** This process serves the port: alone, or as one worker of a cluster. */
function serve(config: Config): void {
  runServer('tessera', async () => {
    const issuer = await createIssuer(config, { log });
    const server = createServer(issuer.listener);
    server.listen(config.port, config.host, () => {
      const info = server.address() as AddressInfo;
      log.info('issuer.listening', { issuer: config.issuer, address: `${info.address}:${info.port}` });
    });
    return { server, onClose: () => issuer.close() };
  });
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  exitOnStartFailure('tessera', error);
}
if (cluster.isWorker) {
  serve(config);
} else {
  if (config.usingDemoKeyEncryptionKey) {
    log.warn('config.demo_key_encryption_key', {
      message:
        'TESSERA_KEY_ENCRYPTION_KEY is not set: private keys are encrypted with the public demo key. ' +
        'Never do this in production.',
    });
  }
  if (config.workers === 1) serve(config);
  else runCluster({ name: 'tessera', workers: config.workers, log, prepare: () => prepareDatabase(config, { log }) });
}
