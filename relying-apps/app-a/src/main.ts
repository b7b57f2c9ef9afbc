/** Starts app A: configuration, its database, then the HTTP server; SIGINT / SIGTERM stop it. */
import { serve } from '@hono/node-server';
import { createLogger, runServer } from '@tessera/shared/node';
import { openApp } from './app.js';
import { loadConfig } from './config.js';

runServer('app-a', async () => {
  const log = createLogger('app-a');
  const config = loadConfig();
  const { app, close } = await openApp(config, { log });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info('listening', { url: config.appUrl, address: `${info.address}:${info.port}`, issuer: config.issuer });
  });
  return { server, onClose: () => void close() };
});
