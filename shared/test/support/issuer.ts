/**
 * Test fixtures: a real issuer's key pairs (jose-generated), its JWKS, token minting, and JWKS
 * served over a real loopback HTTP server or an injected counting fetch. No mocks of jose.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SignJWT,
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import type { FetchLike } from '../../src/http/fetch-like.js';
import type { KeySet } from '../../src/jwks/key-set.js';
import { createLocalKeySet } from '../../src/jwks/local-key-set.js';
import { nowSec, withClaims, type ClaimChanges } from '../../src/testing/jwt-forgeries.js';

export { nowSec };

export const ISSUER = 'http://idp.localhost:4000';
export const API = 'http://api.app-b.localhost:4002';
export const CLIENT_ID = 'app-a';

export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'EdDSA' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk); // RFC 7638, as the issuer does
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

export interface TestIssuer {
  es256: SigningKey;
  ed25519: SigningKey;
  jwks: { keys: JWK[] };
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const es256 = await createSigningKey('ES256');
  const ed25519 = await createSigningKey('EdDSA');
  return { es256, ed25519, jwks: { keys: [es256.publicJwk, ed25519.publicJwk] } };
}

/** A fresh test issuer, and a key set that holds its public keys in memory: what most verifier tests start from. */
export async function createLocalIssuer(): Promise<{ issuer: TestIssuer; keySet: KeySet }> {
  const issuer = await createTestIssuer();
  return { issuer, keySet: await createLocalKeySet(issuer.jwks) };
}

/**
 * Signs `payload` with `key`; the header defaults to `{ alg, kid }`, and `header` adds to it or
 * replaces its parameters (`undefined` leaves one out).
 */
export async function sign(key: SigningKey, payload: JWTPayload, header: ClaimChanges = {}): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader(withClaims<JWTHeaderParameters>({ alg: key.alg, kid: key.kid }, header))
    .sign(key.privateKey);
}

/** Claims with `overrides` applied (`undefined` leaves a claim out). */
export function accessTokenClaims(overrides: ClaimChanges = {}): JWTPayload {
  const iat = nowSec();
  return withClaims(
    {
      iss: ISSUER,
      sub: 'user-1',
      aud: API,
      client_id: 'app-b',
      scope: 'openid profile',
      jti: crypto.randomUUID(),
      sid: 'sid-1',
      iat,
      exp: iat + 300,
    },
    overrides,
  );
}

/** Claims with `overrides` applied (`undefined` leaves a claim out). */
export function idTokenClaims(overrides: ClaimChanges = {}): JWTPayload {
  const iat = nowSec();
  return withClaims(
    {
      iss: ISSUER,
      sub: 'user-1',
      aud: CLIENT_ID,
      iat,
      exp: iat + 300,
      auth_time: iat - 10,
      nonce: 'n-0S6_WzA2Mj',
      sid: 'sid-1',
    },
    overrides,
  );
}

/** Claims with `overrides` applied (`undefined` leaves a claim out). */
export function logoutTokenClaims(overrides: ClaimChanges = {}): JWTPayload {
  const iat = nowSec();
  return withClaims(
    {
      iss: ISSUER,
      aud: CLIENT_ID,
      iat,
      exp: iat + 120,
      jti: crypto.randomUUID(),
      sub: 'user-1',
      sid: 'sid-1',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    },
    overrides,
  );
}

/** Builds a compact JWS by hand, for tokens jose would refuse to produce (alg none…). */
export function handmade(header: Record<string, unknown>, payload: JWTPayload, signature = ''): string {
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

/** An injected fetch serving a JWKS document, counting calls. */
export function countingFetch(jwks: () => unknown): FetchLike & { calls: number } {
  const fetch = Object.assign(
    async (): Promise<Response> => {
      fetch.calls++;
      return new Response(JSON.stringify(jwks()), {
        status: 200,
        headers: { 'content-type': 'application/jwk-set+json' },
      });
    },
    { calls: 0 },
  );
  return fetch;
}

export interface TestServer {
  url: string;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** A real HTTP server on an ephemeral loopback port, recording every request. */
export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts a loopback server whose handler runs once a request's whole body has arrived, as UTF-8 text. */
export function startBodyServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<TestServer> {
  return startServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
}
