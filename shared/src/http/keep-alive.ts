/**
 * How long a server keeps an idle keep-alive connection open. Node's default (5 s, with a second
 * of grace) is shorter than the idle timeout of the proxies that reuse connections to a server:
 * nginx's upstream `keepalive_timeout` and the common cloud load balancers' are 60 s. A proxy that
 * sends a request down a connection at the moment the server closes it gets a reset, and cannot
 * retry a POST (a token request, a sign-in): its client sees a 502. The side that closes idle
 * connections must be the proxy, so the server outlasts it. A client that reads the `Keep-Alive:
 * timeout=65` hint (undici, Node's agent) closes its idle connections before the server does.
 */
import type { Server } from 'node:http';

/** Above the 60 s of nginx's upstream keepalive_timeout and of the common load balancers. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Sets a Node HTTP server's idle keep-alive timeout to `KEEP_ALIVE_TIMEOUT_MS`. */
export function keepIdleConnections(server: Pick<Server, 'keepAliveTimeout'>): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
}
