/**
 * The issuer's published keys, fetched over HTTP and kept: the verifier's hot path never waits on
 * the network while the cached set is fresh, and a flood of tokens with made-up `kid`s cannot turn
 * into a flood of requests to the issuer.
 */
import type { FetchLike } from '../http/fetch-like.js';
import { readBoundedText } from '../http/read-bounded.js';
import { TokenVerificationError } from '../verify/errors.js';
import { importKeySet, type ImportedKey, type KeySet, type VerificationKey } from './key-set.js';

/** Tuning of {@link createRemoteKeySet}; every field has a safe default. */
export interface RemoteKeySetOptions {
  /** The HTTP client; `globalThis.fetch` by default (server code may pass `createLoopbackFetch()`). */
  fetch?: FetchLike;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /**
   * Minimum time between two requests to the issuer, in seconds (default 30), whatever caused
   * them: expiry (so it is also the floor of `max-age`, even `no-store`), an unknown `kid`, or a
   * retry while the issuer is down. Only `refresh()` ignores it.
   */
  cooldownSec?: number;
  /**
   * How long, in seconds, a set whose freshness has run out may still be used while the issuer
   * cannot be reached (default 86 400, one day). Past it, verification fails with
   * `ERR_JWKS_UNAVAILABLE`.
   */
  maxStaleSec?: number;
  /** Freshness lifetime, in seconds, when the response has no `Cache-Control: max-age` (default 300). */
  defaultMaxAgeSec?: number;
  /** Upper bound, in seconds, on the freshness lifetime the issuer may ask for (default 86 400). */
  maxAgeCapSec?: number;
  /** Time limit of one request, in milliseconds (default 5 000). */
  timeoutMs?: number;
  /** Largest JWKS document accepted, in bytes (default 256 KiB). */
  maxResponseBytes?: number;
  /** Extra request headers (a `User-Agent`, say). */
  headers?: Record<string, string>;
}

/** A {@link KeySet} backed by the issuer's `jwks_uri`. */
export interface RemoteKeySet extends KeySet {
  /** The JWKS URL. */
  readonly url: string;
  /**
   * Fetches the set now (joining a fetch already under way), ignoring freshness and cooldown: for
   * warming the cache at start-up. Rejects with `ERR_JWKS_UNAVAILABLE` when the fetch fails.
   */
  refresh(): Promise<void>;
  /** The key of a still-fresh set (see {@link KeySet.keyInHand}); never fetches. */
  keyInHand(kid: string): VerificationKey | undefined;
}

interface CachedSet {
  readonly keys: ReadonlyMap<string, ImportedKey>;
  readonly etag: string | undefined;
  /** Epoch milliseconds at which the set stops being fresh (RFC 9111 §4.2). */
  readonly freshUntil: number;
}

const DEFAULTS = {
  cooldownSec: 30,
  maxStaleSec: 86_400,
  defaultMaxAgeSec: 300,
  maxAgeCapSec: 86_400,
  timeoutMs: 5_000,
  maxResponseBytes: 256 * 1024,
} as const;

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a finite number >= 0`);
  }
  return value;
}

/** Seconds from a `Cache-Control` / `Age` pair, or undefined when the response sets no lifetime. */
function freshnessLifetimeSec(headers: Headers): number | undefined {
  const cacheControl = headers.get('cache-control');
  if (cacheControl === null) return undefined;
  let maxAge: number | undefined;
  for (const directive of cacheControl.split(',')) {
    const [rawName = '', rawValue] = directive.split('=', 2);
    const name = rawName.trim().toLowerCase();
    // RFC 9111 §5.2.2.4, §5.2.2.5: stored but revalidated before every use. The cooldown still
    // bounds how often that happens.
    if (name === 'no-cache' || name === 'no-store') return 0;
    if (name === 'max-age' && rawValue !== undefined) {
      // RFC 9111 §5.2.2.1: senders should not quote it, caches accept it
      const value = rawValue.trim().replace(/^"(.*)"$/, '$1');
      if (/^\d+$/.test(value)) maxAge = Number(value);
    }
  }
  if (maxAge === undefined) return undefined;
  // RFC 9111 §4.2.3: time already spent in caches on the way counts against the lifetime.
  const age = headers.get('age');
  return age !== null && /^\d+$/.test(age.trim()) ? maxAge - Number(age.trim()) : maxAge;
}

class HttpKeySet implements RemoteKeySet {
  readonly url: string;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #cooldownMs: number;
  readonly #maxStaleMs: number;
  readonly #defaultMaxAgeSec: number;
  readonly #maxAgeCapSec: number;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #headers: Record<string, string>;

  #set: CachedSet | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #lastError: unknown;

  constructor(url: string, options: RemoteKeySetOptions) {
    this.url = url;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#cooldownMs = nonNegative('cooldownSec', options.cooldownSec, DEFAULTS.cooldownSec) * 1000;
    this.#maxStaleMs = nonNegative('maxStaleSec', options.maxStaleSec, DEFAULTS.maxStaleSec) * 1000;
    this.#defaultMaxAgeSec = nonNegative('defaultMaxAgeSec', options.defaultMaxAgeSec, DEFAULTS.defaultMaxAgeSec);
    this.#maxAgeCapSec = nonNegative('maxAgeCapSec', options.maxAgeCapSec, DEFAULTS.maxAgeCapSec);
    this.#timeoutMs = nonNegative('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs);
    this.#maxResponseBytes = nonNegative('maxResponseBytes', options.maxResponseBytes, DEFAULTS.maxResponseBytes);
    this.#headers = { ...options.headers };
  }

  async getKey(kid: string): Promise<VerificationKey> {
    const set = this.#set;
    if (set === undefined || this.#now() >= set.freshUntil) await this.#fetchUnlessCoolingDown();

    const key = this.#usableSet().keys.get(kid);
    if (key !== undefined) return key;

    // An unknown kid usually means the issuer has rotated in a new key: look once more, but no
    // more often than the cooldown allows, so made-up kids cannot make us hammer the issuer.
    if (await this.#fetchUnlessCoolingDown()) {
      const rotated = this.#usableSet().keys.get(kid);
      if (rotated !== undefined) return rotated;
    }
    throw new TokenVerificationError('ERR_TOKEN_KID_UNKNOWN', 'no key of the issuer has this kid', { claim: 'kid' });
  }

  keyInHand(kid: string): VerificationKey | undefined {
    // What getKey answers without awaiting anything: a key of a set still fresh.
    const set = this.#set;
    return set !== undefined && this.#now() < set.freshUntil ? set.keys.get(kid) : undefined;
  }

  async refresh(): Promise<void> {
    await (this.#inflight ?? this.#startFetch());
    if (this.#lastError !== undefined) {
      throw new TokenVerificationError('ERR_JWKS_UNAVAILABLE', 'the issuer keys could not be fetched', {
        cause: this.#lastError,
      });
    }
  }

  /** Joins the fetch under way, or starts one when the cooldown allows; true when a fetch ran. */
  async #fetchUnlessCoolingDown(): Promise<boolean> {
    if (this.#inflight !== undefined) {
      await this.#inflight;
      return true;
    }
    if (this.#now() - this.#lastAttemptAt < this.#cooldownMs) return false;
    await this.#startFetch();
    return true;
  }

  /** Starts the one fetch every concurrent caller shares. */
  #startFetch(): Promise<void> {
    this.#lastAttemptAt = this.#now();
    const inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = inflight;
    return inflight;
  }

  /** The current set, fresh or within its stale allowance (RFC 5861 §4 stale-if-error). */
  #usableSet(): CachedSet {
    const set = this.#set;
    if (set !== undefined && this.#now() < set.freshUntil + this.#maxStaleMs) return set;
    throw new TokenVerificationError(
      'ERR_JWKS_UNAVAILABLE',
      set === undefined ? 'the issuer keys could not be fetched' : 'the issuer keys are stale beyond maxStaleSec',
      { cause: this.#lastError },
    );
  }

  #freshUntil(headers: Headers): number {
    const lifetime = freshnessLifetimeSec(headers) ?? this.#defaultMaxAgeSec;
    return this.#now() + Math.min(Math.max(lifetime, 0), this.#maxAgeCapSec) * 1000;
  }

  /** One request to the issuer. Never rejects: a failure is recorded and the old set kept. */
  async #load(): Promise<void> {
    try {
      const previous = this.#set;
      const headers = new Headers(this.#headers);
      headers.set('accept', 'application/jwk-set+json, application/json;q=0.9');
      // RFC 9110 §13.1.2: revalidate instead of downloading the same set again.
      if (previous?.etag !== undefined) headers.set('if-none-match', previous.etag);
      const response = await this.#fetch(this.url, {
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });

      if (response.status === 304 && previous !== undefined) {
        await response.body?.cancel();
        // RFC 9111 §4.3.4: a 304 freshens the stored response with its own headers.
        this.#set = {
          ...previous,
          etag: response.headers.get('etag') ?? previous.etag,
          freshUntil: this.#freshUntil(response.headers),
        };
      } else if (response.status === 200) {
        const document: unknown = JSON.parse(await readBoundedText(response, this.#maxResponseBytes));
        const keys = await importKeySet(document, previous?.keys);
        this.#set = {
          keys,
          etag: response.headers.get('etag') ?? undefined,
          freshUntil: this.#freshUntil(response.headers),
        };
      } else {
        await response.body?.cancel();
        throw new Error(`the JWKS endpoint answered HTTP ${response.status}`);
      }
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = error;
    }
  }
}

/**
 * A key set that fetches the issuer's JWKS (`jwks_uri`) and caches it: fresh for the response's
 * `Cache-Control: max-age`, then revalidated with `If-None-Match`; refetched once on an unknown
 * `kid` (at most once per cooldown); concurrent fetches merged into one; while the issuer is
 * unreachable, the last good set is served for up to `maxStaleSec`. Keys are imported once.
 *
 * @example
 * ```ts
 * const keySet = createRemoteKeySet('https://idp.example.com/jwks');
 * const { claims } = await verifyAccessToken(token, {
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://api.example.com',
 *   keySet,
 * });
 * ```
 */
export function createRemoteKeySet(url: string | URL, options: RemoteKeySetOptions = {}): RemoteKeySet {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TypeError('the JWKS URL must be an absolute URL', { cause });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError('the JWKS URL must be http(s)');
  return new HttpKeySet(parsed.href, options);
}
