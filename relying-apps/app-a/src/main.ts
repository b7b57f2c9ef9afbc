/** Starts app A: configuration, then the HTTP server; SIGINT / SIGTERM stop it. */
import { serve } from '@hono/node-server';
import { createLogger, runServer } from '@tessera/shared/node';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

runServer('app-a', () => {
  const log = createLogger('app-a');
  const config = loadConfig();
  const app = createApp(config, { log });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info('listening', { url: config.appUrl, address: `${info.address}:${info.port}`, issuer: config.issuer });
  });
  return { server };
});
