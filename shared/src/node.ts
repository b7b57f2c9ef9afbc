/**
 * Node-only entry of `@tessera/shared`: what needs `node:` modules and must stay out of browser
 * bundles. Everything in the main entry is browser-safe.
 */
export * from './http/client-errors.js';
export * from './http/loopback-fetch.js';
export * from './jwks/node-signatures.js';
// The servers' logger: pino, one JSON line per event on stderr.
export * from './log/pino-logger.js';
// Response headers with a per-response CSP nonce (AsyncLocalStorage, node:crypto).
export * from './hono/security-headers.js';
