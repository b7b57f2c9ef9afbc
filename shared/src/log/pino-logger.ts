/**
 * Node-only: the servers' logger, over pino. One JSON line per event on stderr — `level`, `time`,
 * `app`, the caller's fields, `event` — written synchronously, one write per line.
 *
 * Not asynchronously: sonic-boom's asynchronous writes go through libuv's thread pool, which
 * argon2id keeps busy during sign-ins. A line queued there behind hashing was lost at
 * `process.exit` (SIGTERM), while the lines after it were flushed synchronously: a log out of
 * order and short by its first lines. A synchronous write of a line costs microseconds, the same
 * as Node's own stderr on a pipe.
 */
import { type DestinationStream, pino } from 'pino';
import type { Logger } from './logger.js';

/** Tuning of {@link createLogger}. */
export interface LoggerOptions {
  /** Where lines go (default: stderr, synchronously). Tests that want no lines use `silentLogger`. */
  destination?: DestinationStream;
}

/**
 * A logger writing one JSON line per event, each tagged with `app`.
 *
 * @example
 * ```ts
 * import { createLogger } from '@tessera/shared/node';
 * const log = createLogger('app-a');
 * log.info('listening', { port: 4001 }); // {"level":"info","time":"…","app":"app-a","port":4001,"event":"listening"}
 * ```
 */
export function createLogger(app: string, options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      // No pid or hostname: the launcher already tells the three servers apart by `app`.
      base: { app },
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return {
    info: (event, fields) => logger.info(fields ?? {}, event),
    warn: (event, fields) => logger.warn(fields ?? {}, event),
    error: (event, fields) => logger.error(fields ?? {}, event),
  };
}
