/** A listener the attacker controls, on a loopback port: it answers with its JWKS and counts who asked. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForeignListener {
  url: string;
  /** How many requests reached it: a verifier following `jku` or `x5u` would show here. */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startForeignListener(jwks: unknown): Promise<ForeignListener> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
