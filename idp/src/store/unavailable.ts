/**
 * Whether an error means the database cannot serve for now — it is unreachable, restarting, out
 * of connections, or (SQLite) held by another writer past the busy timeout — rather than a fault in
 * the request or in this code. Such a condition passes: the issuer answers it 503 with Retry-After
 * (RFC 9110 §15.6.4) and reports itself not ready, rather than a 500.
 *
 * The drivers' errors arrive as they are or wrapped (drizzle's query error keeps the driver's as
 * its `cause`), so the whole cause chain is read.
 */

/** Raised by the store itself when it already knows the database is unreachable (pg/circuit.ts). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** Socket failures on the way to the server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * PostgreSQL's SQLSTATEs for a server that cannot serve now (Appendix A of its manual): class 08
 * (connection exception) by prefix, and these from class 57 (operator intervention) and 53
 * (insufficient resources).
 */
const POSTGRES_STATES = new Set([
  '57P01', // admin_shutdown: the server is shutting down, or an operator ended the session
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '53300', // too_many_connections
]);

/** What node-postgres says when a connection ends or never comes (it sets no code on these). */
const PG_DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /^Client has encountered a connection error/,
];

export function isStoreUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    // PostgreSQL ends the session with FATAL (or PANIC): the connection itself failed — refused at
    // start-up (the database not accepting connections, authentication), or ended under it — as
    // opposed to ERROR, one statement failing on a connection that lives on.
    if (severity === 'FATAL' || severity === 'PANIC') return true;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || POSTGRES_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
      // SQLite: another process held the write lock longer than busy_timeout.
      if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return true;
    }
    if (PG_DRIVER_MESSAGES.some((m) => m.test(e.message))) return true;
  }
  return false;
}
