/**
 * A structured logger's interface, and what a log line may say about an error. Browser-safe: the
 * servers' implementation, over pino, is Node-only (./pino-logger.ts).
 */

/** One structured event per call; `fields` go into the line as they are. */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Logs nothing: the logger tests give the servers they start. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** What a log line may say about an error: its name, code and message, never a token. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `${error.cause.name}: ${error.cause.message}` : undefined;
  return {
    error: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: error.message,
    ...(cause ? { cause } : {}),
  };
}
