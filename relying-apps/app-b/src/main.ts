/** Starts app B: configuration, the browser bundle, then the HTTP server; SIGINT / SIGTERM stop it. */
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { bundleBrowserApp } from './bundle.js';
import { type AppBConfig, ConfigError, loadConfig } from './config.js';
import { answerClientErrors, createLogger } from '@tessera/shared/node';

async function main(): Promise<void> {
  const log = createLogger('app-b');
  let config: AppBConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`app-b: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Built before listening: browser code that does not build stops the start, not the first visitor.
  const browserBundle = await bundleBrowserApp();
  const app = createApp(config, { log, browserBundle: Promise.resolve(browserBundle) });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    log.info('listening', { url: config.appUrl, address: `${info.address}:${info.port}`, issuer: config.issuer });
  });
  answerClientErrors(server);
  const stop = () => {
    server.close(() => process.exit(0));
    // Keep-alive connections would hold close() open; give them a moment, then go.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`app-b: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
