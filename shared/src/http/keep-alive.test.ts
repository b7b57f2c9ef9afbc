import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_TIMEOUT_MS, keepIdleConnections } from './keep-alive.js';

/** Node closes an idle connection a second after its keep-alive timeout (5 s by default). */
const PAST_NODE_DEFAULT_MS = 6_500;

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function listening(): Promise<number> {
  server = createServer((_req, res) => res.end('ok'));
  keepIdleConnections(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('idle keep-alive connections', () => {
  it('advertise the timeout, above the 60 s of the proxies in front', async () => {
    const port = await listening();
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    expect(res.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
  });

  it('stay open past Node’s default, so a proxy reusing one gets an answer, not a reset', async () => {
    const port = await listening();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => (closed = true));
    const answers = () => received.match(/HTTP\/1\.1 200 /g)?.length ?? 0;
    const answered = async (n: number) => {
      while (answers() < n && !closed) await Promise.race([once(socket, 'data'), once(socket, 'close')]);
      return answers();
    };
    const request = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi';
    socket.write(request);
    expect(await answered(1)).toBe(1);
    await new Promise((r) => setTimeout(r, PAST_NODE_DEFAULT_MS));
    expect(closed, 'the server closed the idle connection').toBe(false);
    socket.write(request);
    expect(await answered(2)).toBe(2);
    socket.destroy();
  }, 15_000);
});
