/**
 * Delivering back-channel logout tokens (OIDC Back-Channel Logout 1.0 §2.5) in the background.
 * Deliveries are queued in the store and sent with bounded retries and exponential backoff, so
 * a slow or failing app never blocks the logout itself (§2.7: the OP should not wait
 * indefinitely for an RP), and deliveries left by a crash go out after a restart. Which clients
 * are told, and the token each gets, is protocol/backchannel-logout.ts's.
 *
 * Every issuer process on the database runs a notifier over the same queue: each delivery is
 * claimed in the store before it is sent (store/backchannel.ts), for twice the attempt's timeout,
 * so exactly one process sends each attempt, and the attempt of a process that died is made
 * again by whichever process claims it once that lease ends — each process also looks at the
 * queue every `pollMs`, so that happens with no event in the others. A store that fails (the
 * database away) is logged, never an unhandled rejection; the next look tries again.
 */
import type { Clock, FetchLike, Logger } from '@tessera/shared';
import type { Config } from '../config/config.js';
import { randomId } from '../crypto/random.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { IssuerMetrics } from '../metrics/metrics.js';
import { logoutNotices } from '../protocol/backchannel-logout.js';
import type { BackchannelDelivery, SsoSession, Store } from '../store/index.js';

export interface BackchannelOptions {
  /** Attempts per delivery before it is given up (default 5). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled at each attempt (default 1000). */
  baseDelayMs?: number;
  /** Timeout of one delivery attempt in ms (default 5000); a claim lasts twice this. */
  timeoutMs?: number;
  /**
   * How often the queue is looked at with nothing having happened in this process (default
   * 10000 ms): deliveries can fall due with no event here — a retry another process scheduled, or
   * the claim of a process that died — and a failed look at the store is made again.
   */
  pollMs?: number;
}

/** A logout token not yet sent to `uri`, due at once. */
export function pendingDelivery(
  notice: Pick<BackchannelDelivery, 'clientId' | 'uri' | 'logoutToken'>,
  now: number,
): BackchannelDelivery {
  return {
    id: randomId(),
    ...notice,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    deliveredAt: null,
    failedAt: null,
    lastError: null,
  };
}

export class BackchannelNotifier {
  private timer: NodeJS.Timeout | undefined;
  private readonly poll: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly deps: {
      store: Store;
      keys: KeyRing;
      config: Config;
      clock: Clock;
      log: Logger;
      fetch: FetchLike;
      metrics: IssuerMetrics;
    },
    options: BackchannelOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.poll = setInterval(() => this.kick(), options.pollMs ?? 10_000);
    this.poll.unref();
  }

  /** Queues a logout token for every client of the ended session, then delivers in the background. */
  async sessionEnded(session: SsoSession): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const deliveries = (await logoutNotices(this.deps, session)).map((notice) => pendingDelivery(notice, now));
    await store.backchannel.enqueue(deliveries);
    if (deliveries.length > 0) this.kick();
  }

  /** Starts delivering whatever is due (also called at start-up, for deliveries left by a crash). */
  kick(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= this.drain()
      .catch((error: unknown) => this.storeFailed(error))
      .finally(() => {
        this.running = undefined;
        this.schedule().catch((error: unknown) => this.storeFailed(error));
      });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.poll);
  }

  /** The queue could not be read or written (the database away): the next poll tries again. */
  private storeFailed(error: unknown): void {
    if (this.closed) return;
    this.deps.metrics.databaseErrors.inc({ site: 'backchannel' });
    this.deps.log.warn('backchannel_logout.queue_unavailable', {
      error: error instanceof Error ? error.message : String(error),
    });
  }

  private async schedule(): Promise<void> {
    if (this.closed) return;
    const next = await this.deps.store.backchannel.nextDue();
    if (next === undefined || this.closed) return;
    const delay = Math.max(0, next - this.deps.clock.now());
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    const { store, clock } = this.deps;
    for (;;) {
      if (this.closed) return;
      const now = clock.now();
      // The lease outlasts the attempt's timeout, so a live process records its outcome first.
      const due = await store.backchannel.claimDue(now, 16, now + 2 * this.timeoutMs);
      if (due.length === 0) return;
      // Apps are independent: one slow app does not hold up the others.
      await Promise.all(due.map((d) => this.deliver(d)));
    }
  }

  private async deliver(d: BackchannelDelivery): Promise<void> {
    const { store, clock, log } = this.deps;
    // Counted when claimed: an attempt cut short by a crash counts too.
    const { attempts } = d;
    let error: string;
    try {
      // §2.5: POST, application/x-www-form-urlencoded, parameter logout_token.
      const res = await this.deps.fetch(d.uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: d.logoutToken }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // §2.8: 200 (or any 2xx) means the RP logged the session out.
      if (res.status >= 200 && res.status < 300) {
        if (await store.backchannel.markDelivered(d.id, attempts, clock.now())) {
          log.info('backchannel_logout.delivered', { client_id: d.clientId, attempts });
          this.deps.metrics.backchannelDeliveries.inc({ outcome: 'sent' });
        }
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (attempts >= this.maxAttempts) {
      if (await store.backchannel.markFailed(d.id, attempts, clock.now(), error)) {
        log.warn('backchannel_logout.failed', { client_id: d.clientId, attempts, error });
        this.deps.metrics.backchannelDeliveries.inc({ outcome: 'failed' });
      }
    } else {
      await store.backchannel.markRetry(d.id, attempts, clock.now() + this.baseDelayMs * 2 ** (attempts - 1), error);
    }
  }
}
