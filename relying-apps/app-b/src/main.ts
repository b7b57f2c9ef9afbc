/** Starts app B: configuration, its database, the browser bundle, then the HTTP server; SIGINT / SIGTERM stop it. */
import { serve } from '@hono/node-server';
import { createLogger, runServer } from '@tessera/shared/node';
import { openApp } from './app.js';
import { bundleBrowserApp } from './bundle.js';
import { loadConfig } from './config.js';

runServer('app-b', async () => {
  const log = createLogger('app-b');
  const config = loadConfig();
  // Built before listening: browser code that does not build stops the start, not the first visitor.
  const browserBundle = await bundleBrowserApp();
  const { app, close } = await openApp(config, { log, browserBundle: Promise.resolve(browserBundle) });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info('listening', { url: config.appUrl, address: `${info.address}:${info.port}`, issuer: config.issuer });
  });
  return { server, onClose: () => void close() };
});
