/** A small structured logger: one JSON line per event, on stderr. */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

function line(level: string, event: string, fields?: Record<string, unknown>): string {
  return JSON.stringify({ time: new Date().toISOString(), level, event, ...fields });
}

export const consoleLogger: Logger = {
  info: (e, f) => process.stderr.write(`${line('info', e, f)}\n`),
  warn: (e, f) => process.stderr.write(`${line('warn', e, f)}\n`),
  error: (e, f) => process.stderr.write(`${line('error', e, f)}\n`),
};

/** Logs nothing (tests), unless TESSERA_TEST_LOG is set. */
export const silentLogger: Logger = process.env.TESSERA_TEST_LOG ? consoleLogger : { info() {}, warn() {}, error() {} };
