/**
 * A relying party's back-channel logout endpoint on a loopback port: records tokens, answers with
 * scripted statuses.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class LogoutReceiver {
  /** The logout tokens of the requests answered 200. */
  tokens: string[] = [];
  /** The statuses of the next answers, in order; 200 once they run out. */
  statuses: number[] = [];
  private server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = this.statuses.shift() ?? 200;
      if (status === 200) this.tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(status).end();
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/backchannel-logout`;
  }
  stop() {
    this.server.closeAllConnections();
    this.server.close();
  }
}
