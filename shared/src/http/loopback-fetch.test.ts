import type http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBodyServer, type TestServer } from '../../test/support/issuer.js';
import { createLoopbackFetch, isLoopbackHostname } from './loopback-fetch.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: TestServer;
let port: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = await startBodyServer((req, res, body) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    switch (path) {
      case '/json':
        return void res
          .writeHead(201, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] })
          .end('{"ok":true}');
      case '/empty':
        return void res.writeHead(204).end();
      case '/gzip':
        return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('compressed hello'));
      case '/see-other':
        return void res.writeHead(303, { location: '/json' }).end();
      case '/cross-origin':
        return void res.writeHead(307, { location: `http://app-b.localhost:${port}/echo` }).end();
      case '/slow':
        return void setTimeout(() => res.writeHead(200).end('late'), 500);
      default:
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}`);
    }
  });
  port = new URL(server.url).port;
});
afterAll(() => server.close());

const fetch = createLoopbackFetch();
const last = () => seen[seen.length - 1]!;

describe('createLoopbackFetch', () => {
  it('resolves a *.localhost name to loopback and keeps it in the Host header', async () => {
    const response = await fetch(`http://app-a.localhost:${port}/echo?q=1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('GET /echo?q=1');
    expect(last().headers.host).toBe(`app-a.localhost:${port}`);
    expect(response.url).toBe(`http://app-a.localhost:${port}/echo?q=1`);
  });

  it('resolves localhost itself to 127.0.0.1', async () => {
    expect((await fetch(`http://localhost:${port}/echo`)).status).toBe(200);
  });

  it('resolves other names with the system resolver (a .invalid name fails)', async () => {
    await expect(fetch(`http://app.localhost.invalid:${port}/`)).rejects.toThrow(TypeError);
  });

  it('sends a URLSearchParams body as a form', async () => {
    await fetch(`http://idp.localhost:${port}/token`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1 2', b: 'é' }),
    });
    expect(last().method).toBe('POST');
    expect(last().headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(last().body).toBe('a=1+2&b=%C3%A9');
  });

  it('sends string and Uint8Array bodies with their length', async () => {
    await fetch(`http://idp.localhost:${port}/s`, {
      method: 'PUT',
      body: 'hello',
      headers: { 'content-type': 'text/x-test' },
    });
    expect([last().body, last().headers['content-length'], last().headers['content-type']]).toEqual([
      'hello',
      '5',
      'text/x-test',
    ]);
    await fetch(`http://idp.localhost:${port}/b`, { method: 'POST', body: new TextEncoder().encode('bytes') });
    expect([last().body, last().headers['content-length']]).toEqual(['bytes', '5']);
  });

  it('accepts a Request, with its method, headers and body', async () => {
    await fetch(
      new Request(`http://idp.localhost:${port}/r`, {
        method: 'POST',
        headers: { authorization: 'Bearer x' },
        body: 'payload',
      }),
    );
    expect([last().method, last().headers.authorization, last().body]).toEqual(['POST', 'Bearer x', 'payload']);
  });

  it('returns status, headers and a JSON body', async () => {
    const response = await fetch(`http://idp.localhost:${port}/json`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-multi')).toBe('a, b');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('returns a null body for 204', async () => {
    const response = await fetch(`http://idp.localhost:${port}/empty`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('decodes a gzip response', async () => {
    expect(
      await (await fetch(`http://idp.localhost:${port}/gzip`, { headers: { 'accept-encoding': 'gzip' } })).text(),
    ).toBe('compressed hello');
  });

  it('follows a 303 with a GET and no body', async () => {
    const response = await fetch(`http://idp.localhost:${port}/see-other`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(201);
    expect(response.redirected).toBe(true);
    expect([last().method, last().url, last().body]).toEqual(['GET', '/json', '']);
  });

  it('returns the redirect itself with redirect: manual', async () => {
    const response = await fetch(`http://idp.localhost:${port}/see-other`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/json');
  });

  it('rejects a redirect with redirect: error', async () => {
    await expect(fetch(`http://idp.localhost:${port}/see-other`, { redirect: 'error' })).rejects.toThrow(TypeError);
  });

  it('drops Authorization when a redirect leaves the origin', async () => {
    await fetch(`http://app-a.localhost:${port}/cross-origin`, { headers: { authorization: 'Bearer secret' } });
    expect(last().headers.host).toBe(`app-b.localhost:${port}`);
    expect(last().headers.authorization).toBeUndefined();
  });

  it('rejects with the abort reason when the signal fires', async () => {
    await expect(fetch(`http://idp.localhost:${port}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject(
      { name: 'TimeoutError' },
    );
  });
});

describe('createLoopbackFetch and kept-alive sockets', () => {
  // A server that answers each connection's first request with keep-alive, then resets the
  // connection when a second request arrives on it: what a client meets when the server's idle
  // timeout closes a pooled socket just as the client reuses it.
  let resets = 0;
  let connections = 0;
  let closing: net.Server;
  beforeAll(async () => {
    closing = net.createServer((socket) => {
      connections++;
      let requests = 0;
      socket.on('data', (chunk) => {
        if (!chunk.includes('\r\n\r\n')) return;
        if (++requests > 1) {
          resets++;
          socket.resetAndDestroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => closing.close(() => resolve())));

  it('sends a GET again on a fresh socket when a reused one is reset, and not a POST', async () => {
    const url = `http://idp.localhost:${(closing.address() as net.AddressInfo).port}/jwks`;
    const fetch = createLoopbackFetch();
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(resets).toBe(1);
    expect(connections).toBe(2);
    // A POST may have had its effect: its failure is the caller's to judge.
    await expect(fetch(url, { method: 'POST', body: 'x' })).rejects.toThrow('fetch failed');
    expect(resets).toBe(2);
  });
});

describe('isLoopbackHostname', () => {
  it('is true for localhost and names under it, in any case, with or without the root dot', () => {
    for (const name of ['localhost', 'LOCALHOST', 'idp.localhost', 'a.b.localhost.'])
      expect(isLoopbackHostname(name)).toBe(true);
  });

  it('is false for names that merely contain localhost', () => {
    for (const name of ['localhost.com', 'mylocalhost', 'localhost.invalid', 'example.com'])
      expect(isLoopbackHostname(name)).toBe(false);
  });
});
