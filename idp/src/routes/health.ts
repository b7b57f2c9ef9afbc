/**
 * The probes a load balancer or an orchestrator asks: liveness (`/healthz`: the process answers
 * HTTP at all; restart it if not) and readiness (`/readyz`: it can serve, because its database
 * answers; send it no traffic if not). They differ on purpose: a node whose database is away is
 * not ready, but restarting it would not bring the database back, and it reconnects on its own.
 */
import { Hono } from 'hono';
import type { IssuerContext } from '../context.js';
import type { Env } from '../http/env.js';

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz' } as const;

/**
 * How long the database has to answer a readiness probe: a node cut off from it (a partition, a
 * server that accepts no connection) is reported not ready in this time rather than never.
 */
const READY_TIMEOUT_MS = 2000;

/** Whether `query` settles successfully within `ms`; never rejects. */
function answersWithin(query: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const answered = query.then(
    () => true,
    () => false,
  );
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

export function healthRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // Probes are answered fresh each time: a cached "ready" would hide the node going away.
  const fresh = { 'Cache-Control': 'no-store' };
  app.get(HEALTH_PATHS.live, (c) => c.text('live\n', 200, fresh));

  let wasReady = true;
  app.get(HEALTH_PATHS.ready, async (c) => {
    const ready = await answersWithin(ctx.store.database.query('select 1'), READY_TIMEOUT_MS);
    // Logged on a change only: probes come every few seconds from every balancer.
    if (ready !== wasReady) {
      if (ready) ctx.log.info('store.ready');
      else ctx.log.warn('store.not_ready', { timeout_ms: READY_TIMEOUT_MS });
      wasReady = ready;
    }
    return ready ? c.text('ready\n', 200, fresh) : c.text('not ready\n', 503, fresh);
  });
  return app;
}
