/**
 * Serves `/metrics` (Prometheus text exposition format) on a listener of its own, never on the
 * issuer's port: TESSERA_METRICS_PORT on TESSERA_METRICS_HOST (loopback by default), and when
 * TESSERA_METRICS_TOKEN is set, only to a scraper that sends it as a bearer token (RFC 6750 §2.1).
 * Metrics tell who signs in how often and which clients are busy: not for the public.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@tessera/shared';
import type { MetricsEndpoint } from '../config/config.js';

export const METRICS_PATH = '/metrics';

/** One scrape's answer: the exposition text and its content type (prom-client's). */
export interface Scrape {
  body: string;
  contentType: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether `authorization` carries `token` as a bearer token; in time independent of the guess. */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization ?? '');
  // Digests compared, so the comparison takes the same time whatever the length sent.
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** Listens on `endpoint` and answers scrapes with `scrape()`; resolves once listening. */
export function startMetricsServer(endpoint: MetricsEndpoint, scrape: () => Promise<Scrape>, log: Logger) {
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) return void res.writeHead(404, headers).end('not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end('method not allowed\n');
    if (endpoint.token !== undefined && !bearerMatches(req.headers.authorization, endpoint.token)) {
      // RFC 6750 §3: the challenge names the scheme; no error code for a request without a token.
      const challenge = req.headers.authorization
        ? 'Bearer realm="metrics", error="invalid_token"'
        : 'Bearer realm="metrics"';
      return void res.writeHead(401, { ...headers, 'www-authenticate': challenge }).end('unauthorized\n');
    }
    scrape().then(
      ({ body, contentType }) =>
        res.writeHead(200, { ...headers, 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => {
        log.error('metrics.scrape_failed', { error: error instanceof Error ? error.message : String(error) });
        res.writeHead(500, headers).end('scrape failed\n');
      },
    );
  });
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', reject);
      const info = server.address() as AddressInfo;
      log.info('metrics.listening', { address: `${info.address}:${info.port}`, token: endpoint.token !== undefined });
      resolve(server);
    });
  });
}
