/** Starts app A: configuration, then the HTTP server; SIGINT / SIGTERM stop it. */
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { type AppAConfig, ConfigError, loadConfig } from './config.js';
import { answerClientErrors, createLogger } from '@tessera/shared/node';

function main(): void {
  const log = createLogger('app-a');
  let config: AppAConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`app-a: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = createApp(config, { log });
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

main();
