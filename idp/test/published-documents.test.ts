/**
 * The published documents (discovery, the JWKS) answered before the app: the same status, headers
 * and body as the app's own routes and middlewares give, for every kind of request, and every
 * request the listener does not answer itself handed to the app.
 */
import { createServer, request, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { keepIdleConnections } from '@tessera/shared/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePublishedDocuments } from '../src/http/published-documents.js';
import { withRequestIds } from '../src/http/request-id.js';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';

interface Answer {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/** The one field that may differ between two answers a moment apart. */
const DATE = 'date';
/** Each answer's own random id: compared by its form only. */
const REQUEST_ID = 'x-request-id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One request exactly as given (no Host added), the answer's header fields as sent. */
function send(url: string, method: string, path: string, headers: [string, string][]): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, setHost: false, headers: headers.flat() });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const fields: Record<string, string[]> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase();
          if (name === DATE) continue;
          const value = res.rawHeaders[i + 1]!;
          fields[name] = [...(fields[name] ?? []), name === REQUEST_ID && UUID.test(value) ? 'a random UUID' : value];
        }
        const sorted = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)));
        resolve({ status: res.statusCode!, headers: sorted, body: Buffer.concat(chunks).toString() });
      });
    });
    req.end();
  });
}

async function listen(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  // As the issuer's server holds idle connections (and advertises it in Keep-Alive).
  keepIdleConnections(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let idp: RunningIssuer;
/** The same issuer served by its app alone, as before the published documents were answered first. */
let appAlone: { server: Server; url: string };
/** The listener in front of a recorder of what it hands on. */
let handedOn: string[];
let recorded: { server: Server; url: string };
let etag: string;

beforeAll(async () => {
  idp = await startIssuer();
  // The app as the issuer's listener hands it requests: each with its request id.
  appAlone = await listen(withRequestIds(idp.issuer.ctx.config.trustProxy, getRequestListener(idp.issuer.app.fetch)));
  handedOn = [];
  recorded = await listen(
    servePublishedDocuments(idp.issuer.ctx, (req, res) => {
      handedOn.push(`${req.method} ${req.url}`);
      res.writeHead(418).end();
    }),
  );
  etag = idp.issuer.ctx.keys.jwks.etag;
});
afterAll(async () => {
  for (const { server } of [appAlone, recorded]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await idp.cleanup();
});

const host = (url: string): [string, string] => ['Host', new URL(url).host];
const PATHS = ['/jwks', '/.well-known/openid-configuration'];

/** Requests the listener answers itself: plain GET and HEAD, with and without validators and an origin. */
const ANSWERED: [string, (etag: string) => [string, string][]][] = [
  ['no validator', () => []],
  ['an origin', () => [['Origin', 'https://app.example.test']]],
  ['the current ETag', (e) => [['If-None-Match', e]]],
  ['the current ETag, weak (weak comparison, RFC 9110 §13.1.2)', (e) => [['If-None-Match', `W/${e}`]]],
  ['a list holding the current ETag', (e) => [['If-None-Match', `"old", ${e}`]]],
  [
    'the list over two fields',
    (e) => [
      ['If-None-Match', '"old"'],
      ['If-None-Match', e],
    ],
  ],
  ['*', () => [['If-None-Match', '*']]],
  ['another ETag', () => [['If-None-Match', '"old"']]],
  ['a malformed If-None-Match', (e) => [['If-None-Match', `${e.slice(0, -1)}`]]],
];

/** Requests the listener hands to the app, which answers them as it always has. */
const HANDED_ON: [string, string, string, (url: string) => [string, string][]][] = [
  ['a query string', 'GET', '/jwks?x=1', (u) => [host(u)]],
  ['a malformed query string', 'GET', '/jwks?x=%zz', (u) => [host(u)]],
  ['a trailing slash', 'GET', '/jwks/', (u) => [host(u)]],
  ['POST', 'POST', '/jwks', (u) => [host(u), ['Content-Length', '0']]],
  ['DELETE', 'DELETE', '/.well-known/openid-configuration', (u) => [host(u)]],
  [
    'a CORS preflight',
    'OPTIONS',
    '/jwks',
    (u) => [host(u), ['Origin', 'https://app.example.test'], ['Access-Control-Request-Method', 'GET']],
  ],
  ['an oversized header value', 'GET', '/jwks', (u) => [host(u), ['X-Filler', 'a'.repeat(9000)]]],
  ['header values oversized once joined', 'GET', '/jwks', (u) => [host(u), ...repeated('If-None-Match', 3000, 3)]],
  ['a Host the adapter parses', 'GET', '/jwks', () => [['Host', 'IDP.Example.test:443']]],
  ['an invalid Host', 'GET', '/jwks', () => [['Host', 'idp.example.test:99999']]],
];

function repeated(name: string, length: number, times: number): [string, string][] {
  return Array.from({ length: times }, () => [name, `"${'a'.repeat(length)}"`]);
}

describe('published documents answered before the app', () => {
  for (const path of PATHS) {
    for (const method of ['GET', 'HEAD']) {
      it.each(ANSWERED)(`${method} ${path} with %s: as the app answers`, async (_, headers) => {
        const asked = (url: string) => send(url, method, path, [host(url), ...headers(etag)]);
        const [fast, app] = await Promise.all([asked(idp.url), asked(appAlone.url)]);
        expect(fast).toEqual(app);
        const before = handedOn.length;
        expect((await asked(recorded.url)).status).not.toBe(418);
        expect(handedOn.length).toBe(before);
      });
    }
  }

  it('answers a revalidation with 304, the validator and no body', async () => {
    const { status, headers, body } = await send(idp.url, 'GET', '/jwks', [host(idp.url), ['If-None-Match', etag]]);
    expect(status).toBe(304);
    expect(headers.etag).toEqual([etag]);
    expect(body).toBe('');
  });

  it.each(HANDED_ON)('hands %s to the app', async (_, method, path, headers) => {
    const [fast, app] = await Promise.all([
      send(idp.url, method, path, headers(idp.url)),
      send(appAlone.url, method, path, headers(appAlone.url)),
    ]);
    expect(fast).toEqual(app);
    await send(recorded.url, method, path, headers(recorded.url));
    expect(handedOn.at(-1)).toBe(`${method} ${path}`);
  });

  it('serves the new JWKS once a rotation reloads the ring, as the app does', async () => {
    const asked = (url: string) => send(url, 'GET', '/jwks', [host(url)]);
    const before = await asked(idp.url);
    await rotateSigningKey(idp.issuer.ctx, { trigger: 'command', force: true });
    await idp.issuer.ctx.keys.refresh();
    const [fast, app] = await Promise.all([asked(idp.url), asked(appAlone.url)]);
    expect(fast).toEqual(app);
    expect(fast.body).not.toBe(before.body);
    expect(fast.headers.etag).not.toEqual(before.headers.etag);
  });
});
