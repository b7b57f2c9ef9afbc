/** Node-only: the logger the demo apps run with — one JSON line per event, on stderr, like the issuer's. */
import type { Logger } from './logger.js';

/**
 * A logger writing one JSON line per event to stderr, each tagged with `app`.
 *
 * @example
 * ```ts
 * import { createStderrLogger } from '@tessera/shared/node';
 * export const consoleLogger = createStderrLogger('app-a');
 * consoleLogger.info('listening', { port: 4001 });
 * ```
 */
export function createStderrLogger(app: string): Logger {
  const line = (level: string, event: string, fields?: Record<string, unknown>): string =>
    `${JSON.stringify({ time: new Date().toISOString(), level, app, event, ...fields })}\n`;
  return {
    info: (e, f) => process.stderr.write(line('info', e, f)),
    warn: (e, f) => process.stderr.write(line('warn', e, f)),
    error: (e, f) => process.stderr.write(line('error', e, f)),
  };
}
