/** A small structured logger: one JSON line per event, on stderr, like the issuer's. */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const line = (level: string, event: string, fields?: Record<string, unknown>): string =>
  JSON.stringify({ time: new Date().toISOString(), level, app: 'app-b', event, ...fields }) + '\n';

export const consoleLogger: Logger = {
  info: (e, f) => process.stderr.write(line('info', e, f)),
  warn: (e, f) => process.stderr.write(line('warn', e, f)),
  error: (e, f) => process.stderr.write(line('error', e, f)),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** What a log line may say about an error: its name, code and message, never a token. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : undefined;
  return { error: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message, ...(cause ? { cause } : {}) };
}
