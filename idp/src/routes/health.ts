/**
 * The probes a load balancer or an orchestrator asks: liveness (`/healthz`: the process answers
 * HTTP at all; restart it if not) and readiness (`/readyz`: it can serve — its database answers,
 * migrated to this build's schema, and its signing keys are loaded; send it no traffic if not).
 * They differ on purpose: a node whose database is away is not ready, but restarting it would not
 * bring the database back, and it reconnects on its own.
 */
import { Hono } from 'hono';
import type { IssuerContext } from '../context.js';
import type { Env } from '../http/env.js';
import { schemaIsCurrent } from '../store/index.js';

export const HEALTH_PATHS = { live: '/healthz', ready: '/readyz' } as const;

/**
 * How long the database has to answer a readiness probe: a node cut off from it (a partition, a
 * server that accepts no connection) is reported not ready in this time rather than never.
 */
const READY_TIMEOUT_MS = 2000;

/** What `query` resolves to within `ms`, or `unanswered` (it rejected, or took longer); never rejects. */
function answerWithin<T>(query: Promise<T>, ms: number): Promise<T | 'unanswered'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'unanswered'>((resolve) => {
    timer = setTimeout(() => resolve('unanswered'), ms);
  });
  const answered = query.catch(() => 'unanswered' as const);
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

/**
 * Why this node cannot serve now, or undefined when it can: the database must answer, with the
 * schema this build migrates to (a database restored from an older backup, or migrated by a newer
 * build since this node started, is not one it may write), and the key ring must sign with the
 * key the store says is current (it keeps the keys it has when a reload fails: a key it cannot
 * decrypt leaves it signing with a key the other nodes have retired).
 */
async function whyNotReady(ctx: IssuerContext): Promise<string | undefined> {
  const schema = await answerWithin(schemaIsCurrent(ctx.store), READY_TIMEOUT_MS);
  if (schema === 'unanswered') {
    ctx.metrics.databaseErrors.inc({ site: 'readiness' });
    return 'database unreachable';
  }
  if (!schema) return 'database schema not current';
  const keys = await answerWithin(ctx.keys.signsWithStoredCurrentKey(), READY_TIMEOUT_MS);
  if (keys === 'unanswered') {
    ctx.metrics.databaseErrors.inc({ site: 'readiness' });
    return 'database unreachable';
  }
  if (!keys) return 'signing keys not loaded';
  return undefined;
}

export function healthRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // Probes are answered fresh each time: a cached "ready" would hide the node going away.
  const fresh = { 'Cache-Control': 'no-store' };
  app.get(HEALTH_PATHS.live, (c) => c.text('live\n', 200, fresh));

  let wasReady: string | undefined;
  app.get(HEALTH_PATHS.ready, async (c) => {
    const notReady = await whyNotReady(ctx);
    // Logged on a change only: probes come every few seconds from every balancer.
    if (notReady !== wasReady) {
      if (notReady === undefined) ctx.log.info('issuer.ready');
      else ctx.log.warn('issuer.not_ready', { reason: notReady, timeout_ms: READY_TIMEOUT_MS });
      wasReady = notReady;
    }
    return notReady === undefined ? c.text('ready\n', 200, fresh) : c.text(`not ready: ${notReady}\n`, 503, fresh);
  });
  return app;
}
