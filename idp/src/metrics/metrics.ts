/**
 * What the issuer counts for its operators, in Prometheus' terms (prom-client): requests by route
 * pattern and status with their latency, sign-ins by result, tokens by grant type, refresh-token
 * reuse, back-channel logout deliveries, database errors, the signing keys' age, and Node's own
 * process metrics (event-loop lag among them). Counting is an increment on the request's path;
 * what must be read from the store (pending deliveries, the key ring) is read when scraped, not
 * per request. The registry is served by metrics/metrics-server.ts, never on the issuer's port.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '@tessera/shared';
import type { Config } from '../config/config.js';
import { keyTimeline } from '../keys/key-timeline.js';
import type { Store } from '../store/index.js';

/** Why a sign-in ended as it did: the audit trail's reasons, and success. */
export type SignInResult = 'success' | 'bad_credentials' | 'throttled' | 'locked';

/** Where a database error was met. */
export type DatabaseErrorSite = 'request' | 'readiness' | 'backchannel' | 'scrape';

/**
 * Latency buckets in seconds: the token endpoint answers in milliseconds, a password sign-in
 * (argon2id) in tens to hundreds of them, a database away in seconds.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class IssuerMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the raw path) and status, and how long they took',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly signIns = new Counter({
    name: 'tessera_sign_ins_total',
    help: 'Password sign-ins by result (a throttled or locked attempt is shown the page of a wrong password)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Successful token endpoint responses by grant type',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });

  readonly refreshTokenReuse = new Counter({
    name: 'tessera_refresh_token_reuse_detected_total',
    help: 'Refresh tokens presented again after rotation: their whole family was revoked (RFC 9700 §4.14.2)',
    registers: [this.registry],
  });

  readonly backchannelDeliveries = new Counter({
    name: 'tessera_backchannel_logout_deliveries_total',
    help: 'Back-channel logout deliveries settled by this process: sent (2xx) or failed (attempts exhausted)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly mailMessages = new Counter({
    name: 'tessera_mail_messages_total',
    help: 'Mail messages this process handed on: sent (accepted by SMTP or written to the outbox) or failed',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly databaseErrors = new Counter({
    name: 'tessera_database_errors_total',
    help: 'Times the database could not serve (unreachable, timed out, lock held too long), by where it was met',
    labelNames: ['site'] as const,
    registers: [this.registry],
  });

  /**
   * One child per method, route and status seen: the labels are read and validated once; a request
   * then costs prom-client's hash of three labels and a bucket search (about 1-2 µs).
   */
  private readonly requestSeries = new Map<string, { observe(seconds: number): void }>();

  /** Counts one answered request; `route` is a route pattern or a fixed path, never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = this.httpRequests.labels({ method, route, status: String(status) });
      this.requestSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /**
   * `processMetrics`: whether this process's own metrics are collected. Only when /metrics is
   * served (TESSERA_METRICS_PORT): the event-loop monitor and GC observers they start would
   * otherwise run in every issuer for no reader.
   */
  constructor(options: { processMetrics: boolean }) {
    // Event-loop lag, heap, GC, CPU and file descriptors of this process.
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    // Every series of a labelled counter from the first scrape: a rate over a series that appears
    // only at its first event misses that event.
    for (const result of ['success', 'bad_credentials', 'throttled', 'locked'] satisfies SignInResult[])
      this.signIns.inc({ result }, 0);
    for (const outcome of ['sent', 'failed']) {
      this.backchannelDeliveries.inc({ outcome }, 0);
      this.mailMessages.inc({ outcome }, 0);
    }
  }

  /**
   * The gauges read from the store when scraped: pending deliveries and the signing keys. They
   * describe the shared database, not this process, so a cluster reports them once (`max`).
   */
  observeStore(deps: { store: Store; config: Config; clock: Clock }): void {
    const { store, config, clock } = deps;
    const countScrapeError = () => this.databaseErrors.inc({ site: 'scrape' });
    new Gauge({
      name: 'tessera_backchannel_logout_deliveries_pending',
      help: 'Back-channel logout deliveries queued and not yet sent or given up, in the whole database',
      registers: [this.registry],
      aggregator: 'max',
      async collect() {
        try {
          this.set(await store.backchannel.countPending());
        } catch {
          countScrapeError();
        }
      },
    });
    const timeline = keyTimeline(config);
    const keyGauge = (name: string, help: string, value: (now: number, current: CurrentKey) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        aggregator: 'max',
        async collect() {
          try {
            const current = (await store.signingKeys.list()).find((k) => k.state === 'current');
            if (current) this.set(value(clock.now(), current));
          } catch {
            countScrapeError();
          }
        },
      });
    keyGauge(
      'tessera_signing_key_age_seconds',
      'How long the current signing key has been signing',
      (now, current) => (now - (current.activatedAt ?? current.createdAt)) / 1000,
    );
    keyGauge(
      'tessera_signing_key_next_rotation_timestamp_seconds',
      'When the scheduler rotates to the next signing key (Unix time)',
      (_now, current) => timeline.rotationDueAt(current) / 1000,
    );
  }
}

type CurrentKey = Awaited<ReturnType<Store['signingKeys']['list']>>[number];
