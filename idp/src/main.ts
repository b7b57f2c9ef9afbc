/**
 * Starts the issuer: configuration, store, keys, then the HTTP server; SIGINT / SIGTERM stop it.
 * With TESSERA_WORKERS above 1 this process is the primary of a cluster (cluster.ts), and each
 * worker it forks runs this file again and serves.
 */
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { createLogger, exitOnStartFailure, runServer } from '@tessera/shared/node';
import { runCluster, workerLogger } from './cluster.js';
import type { Config } from './config/config.js';
import { loadConfig } from './config/load-config.js';
import { createIssuer, prepareDatabase } from './issuer.js';
import { startMetricsServer } from './metrics/metrics-server.js';

const log = cluster.isWorker ? workerLogger(createLogger('idp')) : createLogger('idp');

/** This process serves the port: alone, or as one worker of a cluster. */
function serve(config: Config): void {
  runServer('tessera', async () => {
    const issuer = await createIssuer(config, { log });
    const { registry } = issuer.ctx.metrics;
    let metricsServer: Server | undefined;
    // A worker's metrics go to the primary, which serves the cluster's sum (prom-client's IPC):
    // constructing an AggregatorRegistry is what makes prom-client answer the primary's requests.
    if (cluster.isWorker) {
      AggregatorRegistry.setRegistries([registry]);
      new AggregatorRegistry();
    } else if (config.metrics)
      metricsServer = await startMetricsServer(
        config.metrics,
        async () => ({ body: await registry.metrics(), contentType: registry.contentType }),
        log,
      );
    const server = createServer(issuer.listener);
    server.listen(config.port, config.host, () => {
      const info = server.address() as AddressInfo;
      log.info('issuer.listening', { issuer: config.issuer, address: `${info.address}:${info.port}` });
    });
    return {
      server,
      onClose: async () => {
        metricsServer?.close();
        await issuer.close();
      },
    };
  });
}

/** The primary of a cluster serves the metrics of all its workers, summed (or as each metric says). */
async function serveClusterMetrics(config: Config): Promise<void> {
  if (!config.metrics) return;
  const registry = new AggregatorRegistry();
  await startMetricsServer(
    config.metrics,
    async () => ({ body: await registry.clusterMetrics(), contentType: registry.contentType }),
    log,
  );
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
  else
    runCluster({
      name: 'tessera',
      workers: config.workers,
      log,
      prepare: async () => {
        await prepareDatabase(config, { log });
        await serveClusterMetrics(config);
      },
    });
}
