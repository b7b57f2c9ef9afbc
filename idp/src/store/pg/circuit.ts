/**
 * A circuit breaker on the pool. Once a connection or a statement finds the database unreachable
 * (../unavailable.ts), the node stops waiting on it: every checkout fails at once, as unavailable,
 * until a probe — `select 1` on a connection of its own, every PROBE_INTERVAL_MS — is answered.
 *
 * Without it, each request on a node cut off from its database would wait out the connection or
 * query timeout (5–6 s, database.ts) before its 503, holding its connection and the load
 * balancer's; with it the node answers 503 at once, and a balancer that learns only from answers
 * (nginx's passive checks) sends its traffic elsewhere. The probe, not a request, finds the way back.
 */
import type { Logger } from '@tessera/shared';
import pg from 'pg';
import { isStoreUnavailable, StoreUnavailableError } from '../unavailable.js';

const PROBE_INTERVAL_MS = 500;
/** A probe gives up sooner than a request would: it runs again soon anyway. */
const PROBE_TIMEOUT_MS = 1000;

export interface Circuit {
  /** True while the database is taken to be unreachable. */
  readonly open: boolean;
  stop(): void;
}

type Callback = (error: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void;

export function guardPool(pool: pg.Pool, probeConfig: pg.ClientConfig, log?: Logger): Circuit {
  let open = false;
  let timer: NodeJS.Timeout | undefined;
  let probing = false;

  const probe = async () => {
    if (probing) return;
    probing = true;
    const client = new pg.Client({
      ...probeConfig,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      query_timeout: PROBE_TIMEOUT_MS,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      open = false;
      clearInterval(timer);
      timer = undefined;
      log?.info('store.circuit_closed');
    } catch {
      // Still unreachable: the next probe tries again.
    } finally {
      probing = false;
      client.end().catch(() => {});
    }
  };

  const trip = (error: unknown) => {
    if (open || !isStoreUnavailable(error)) return;
    open = true;
    log?.warn('store.circuit_open', { error: error instanceof Error ? error.message : String(error) });
    timer = setInterval(() => void probe(), PROBE_INTERVAL_MS);
    timer.unref();
  };

  // Every checkout — a plain query (pg-pool's `query` checks a client out through `connect` too)
  // or a transaction — goes through `connect`.
  const connect = pool.connect.bind(pool) as (callback: Callback) => void;
  const guarded = (callback?: Callback): Promise<pg.PoolClient> | undefined => {
    const settle = (resolve?: (c: pg.PoolClient) => void, reject?: (e: Error) => void): Callback => {
      return (error, client, done) => {
        if (error) trip(error);
        if (callback) callback(error, client, done);
        else if (error) reject!(error);
        else resolve!(client!);
      };
    };
    if (open) {
      const error = new StoreUnavailableError('the database did not answer; waiting for a probe to');
      if (callback) {
        process.nextTick(() => callback(error));
        return undefined;
      }
      return Promise.reject(error);
    }
    if (callback) {
      connect(settle());
      return undefined;
    }
    return new Promise((resolve, reject) => connect(settle(resolve, reject)));
  };
  (pool as unknown as { connect: typeof guarded }).connect = guarded;

  // A statement that finds the connection gone or silent trips the circuit too.
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const last = args.at(-1);
      if (typeof last === 'function') {
        return query(...args.slice(0, -1), (error: unknown, result: unknown) => {
          if (error) trip(error);
          (last as (e: unknown, r: unknown) => void)(error, result);
        });
      }
      const result = query(...args);
      if (result instanceof Promise)
        return result.catch((error: unknown) => {
          trip(error);
          throw error;
        });
      return result;
    };
  });

  return {
    get open() {
      return open;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
