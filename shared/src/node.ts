/**
 * Node-only entry of `@tessera/shared`: what needs `node:` modules and must stay out of browser
 * bundles. Everything in the main entry is browser-safe.
 */
export * from './http/loopback-fetch.js';
export * from './jwks/node-signatures.js';
export * from './log/stderr-logger.js';
