export * from './protocol.js';
export * from './errors.js';

// Token verification (browser-safe: jose and Web Crypto only).
export * from './verify/errors.js';
export type { KeySet, VerificationAlgorithm, VerificationKey } from './jwks/key-set.js';
export { VERIFICATION_ALGORITHMS } from './jwks/key-set.js';
export * from './jwks/remote-key-set.js';
export * from './jwks/local-key-set.js';
export * from './verify/verify-access-token.js';
export * from './verify/verify-id-token.js';
export * from './verify/verify-logout-token.js';
export * from './verify/jti-store.js';
export * from './verify/verify-dpop-proof.js';
// How a person signed in: RFC 8176 `amr` values and Tessera's ordered `acr` classes.
export * from './authn/authentication-context.js';
// Token Status List (draft-ietf-oauth-status-list-21): browser-safe, inflated with DecompressionStream.
export * from './status/status-list.js';
export * from './status/status-list-checker.js';
export type { FetchLike } from './http/fetch-like.js';
export * from './http/read-bounded.js';
// Strict application/x-www-form-urlencoded reading (browser-safe: TextDecoder with fatal: true).
export * from './http/malformed-request-error.js';
export * from './http/urlencoded.js';
// Conditional GET: If-None-Match against an ETag the server computed once (RFC 9110 §13.1.2).
export * from './http/if-none-match.js';
// Configuration from environment variables, with errors that name the variable.
export * from './config/env.js';
export * from './http/loopback-host.js';
// The time source servers take as a dependency.
export * from './time/clock.js';
// One leeway for every time check of what the issuer signed, and the clock difference to it, estimated.
export * from './time/clock-tolerance.js';
export * from './time/clock-skew.js';
// A structured logger's interface; the stderr logger is Node-only, in ./node.ts.
export * from './log/logger.js';

// Hono middleware: bearer tokens for resource servers and a relying party's back-channel logout
// endpoint (type-only import of hono: no runtime dependency). Request limits are in ./node.ts.
export * from './hono/require-bearer.js';
export * from './hono/step-up.js';
export * from './hono/backchannel-logout.js';

// Relying-party helpers (browser-safe). The Node-only loopback fetch is in ./node.ts.
export * from './rp/errors.js';
export * from './rp/pkce.js';
export * from './rp/authorization-request.js';
export * from './rp/step-up.js';
export * from './rp/authorization-response.js';
export * from './rp/code-exchange.js';
export * from './rp/fedcm.js';
export * from './rp/dpop-prover.js';
export * from './rp/token-exchange.js';
export * from './rp/logout-url.js';
export * from './rp/issuer-client.js';
// What a relying party's server keeps between requests (kept in a database by @tessera/shared/store).
export type * from './rp/server-state.js';
