/**
 * How a Tessera server process starts and stops, the same for the issuer and both apps: a start-up
 * failure is one line on stderr and exit code 2 for a configuration error (the operator's to fix),
 * 1 for anything else; SIGINT / SIGTERM close the server, then the process exits.
 */
import type { Server } from 'node:net';
import { ConfigError } from '../config/env.js';
import { answerClientErrors } from './client-errors.js';
import { keepIdleConnections } from './keep-alive.js';

/** A listening server, and what to release once it has closed (awaited, within the grace time). */
export interface StartedServer {
  readonly server: Server;
  readonly onClose?: () => void | Promise<void>;
}

/** Keep-alive connections would hold close() open this long at most. */
const STOP_GRACE_MS = 2000;

/**
 * Runs `start` (read the configuration, build the app, listen) and keeps the process up until it
 * is told to stop. `name` begins every line written to stderr.
 */
export function runServer(name: string, start: () => StartedServer | Promise<StartedServer>): void {
  Promise.resolve()
    .then(start)
    .then(
      ({ server, onClose }) => {
        answerClientErrors(server);
        // An HTTP/1.1 server (what every Tessera server is); net.Server has no keep-alive.
        if ('keepAliveTimeout' in server) keepIdleConnections(server as Server & { keepAliveTimeout: number });
        const stop = () => {
          server.close(() => {
            // A database pool's connections end cleanly rather than being cut by the exit.
            Promise.resolve()
              .then(onClose)
              .finally(() => process.exit(0));
          });
          setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      },
      (error: unknown) => exitOnStartFailure(name, error),
    );
}

/**
 * Ends a process whose start failed as every Tessera server does: one line on stderr, exit code 2
 * for a configuration error, 1 for anything else. For a process that starts otherwise than
 * through `runServer` (the issuer's cluster primary).
 */
export function exitOnStartFailure(name: string, error: unknown): never {
  const what = error instanceof ConfigError ? 'configuration error' : 'failed to start';
  process.stderr.write(`${name}: ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
