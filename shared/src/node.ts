/**
 * Server entry of `@tessera/shared`: what needs `node:` modules, or imports Hono at run time, and
 * must stay out of browser bundles. Everything in the main entry is browser-safe.
 */
export * from './http/loopback-fetch.js';
// Start-up failures, client errors and SIGINT / SIGTERM, the same for every server process.
export * from './http/run-server.js';
// Idle keep-alive connections held longer than the proxies in front hold theirs.
export * from './http/keep-alive.js';
export * from './jwks/node-signatures.js';
// DPoP proofs checked with node:crypto, synchronously (verifyDPoPProof's `crypto`).
export * from './verify/node-dpop-crypto.js';
// The servers' logger: pino, one JSON line per event on stderr.
export * from './log/pino-logger.js';
// Random bytes, base64url, from a pool the CSPRNG fills: secrets, identifiers, nonces.
export * from './crypto/random-pool.js';
// Bearer secrets: made, kept as digests, compared in constant time.
export * from './crypto/secrets.js';
// Response headers with a per-response CSP nonce (node:crypto), and the HTML pages that carry it
// (hono/html at run time), rendered with renderPage.
export * from './hono/security-headers.js';
export * from './hono/html-page.js';
// Body, header and query limits for every request (hono/body-limit at run time).
export * from './hono/request-limits.js';
// Background tasks of a server process: never doubled, never keeping it alive.
export * from './time/periodic.js';
