/**
 * Checking an access token against its issuer's Token Status List (draft-ietf-oauth-status-list-21
 * §8.3), for an API that verifies tokens on its own: the list named by the token's `status` claim
 * is fetched (only from the issuer's origin), verified with the issuer's keys, cached for its
 * `ttl`, and the token's entry read. A revoked token is then refused within one `ttl`, without a
 * call to the issuer per request and without back-channel logout. When the issuer cannot give a
 * fresh copy, the last good one keeps answering until its `exp` (plus the leeway), and no longer.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import type { FetchLike } from '../http/fetch-like.js';
import { readBoundedText } from '../http/read-bounded.js';
import { VERIFICATION_ALGORITHMS, type KeySet } from '../jwks/key-set.js';
import { describeError, silentLogger, type Logger } from '../log/logger.js';
import { TokenVerificationError } from '../verify/errors.js';
import { requireClockTolerance } from '../time/clock-tolerance.js';
import { normalizeTyp, requireKeySet, requireNonEmptyString, requireNow } from '../verify/verify-jwt.js';
import { STATUS_LIST_BITS, TOKEN_STATUS, inflateStatusList, statusAt, type StatusListBits } from './status-list.js';

/** §5.1: the `typ` of a Status List Token; §8.1: the media type a verifier asks for. */
export const STATUS_LIST_TOKEN_TYPE = 'statuslist+jwt';
export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';

/** What {@link createStatusListChecker} needs; every tuning field has a safe default. */
export interface StatusListCheckerOptions {
  /** The issuer identifier: lists are fetched from its origin only, and a list's `iss`, when present, must equal it. */
  issuer: string;
  /** The issuer's keys, the same set the access tokens are verified with. */
  keySet: KeySet;
  /** Other origins allowed to serve the issuer's lists (a CDN in front of it), e.g. `https://status.example.com`. */
  origins?: readonly string[];
  /** The HTTP client; `globalThis.fetch` by default (server code may pass `createLoopbackFetch()`). */
  fetch?: FetchLike;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /**
   * Leeway for the list's `exp` and `iat`, in seconds: the kit's one rule (../time/clock-tolerance.ts),
   * 60 by default, 0 for strict, at most 300. A list is refused when its `iat` lies further than this
   * in the future of the moment it was received, and used until its `exp` plus this, never longer.
   */
  clockToleranceSec?: number;
  /**
   * How long to keep a list that carries no `ttl`, in seconds (default 60). A list without `exp`
   * stays usable for twice its ttl (as held) after its fetch started: see {@link createStatusListChecker}.
   */
  defaultTtlSec?: number;
  /** The range a list's `ttl` is held to, in seconds (default 1 to 3 600): §11.5 asks for reasonable values. */
  minTtlSec?: number;
  maxTtlSec?: number;
  /**
   * After a failed fetch, how long that list is not asked for again, in seconds (default 5); meanwhile
   * the last good copy answers while it is usable, and the check is refused otherwise.
   */
  retryAfterSec?: number;
  /** Time limit of one request, in milliseconds (default 5 000). */
  timeoutMs?: number;
  /** Largest Status List Token accepted, in bytes (default 1 MiB). */
  maxTokenBytes?: number;
  /** Largest inflated status list accepted, in bytes (default 4 MiB: 32 million 1-bit entries). */
  maxListBytes?: number;
  /** How many lists to keep in memory (default 64). */
  maxLists?: number;
  /** Where a list answering past its ttl is reported (`status_list.stale`, a warning); silent by default. */
  log?: Logger;
}

/** The `status_list` member of a token's `status` claim (§6.2). */
export interface StatusListReference {
  idx: number;
  uri: string;
}

/** Reads token statuses from Status List Tokens; see {@link createStatusListChecker}. */
export interface StatusListChecker {
  /**
   * Resolves when the claims' `status` names an entry that is VALID (§7.1). Rejects with a
   * {@link TokenVerificationError}: `ERR_TOKEN_REVOKED` for any other status, `ERR_TOKEN_CLAIM` for
   * a missing or unusable `status` claim, `ERR_JWKS_UNAVAILABLE` (claim `status`) when the list
   * cannot be fetched or verified — not the token's fault, so an API answers 503.
   */
  check(claims: object): Promise<void>;
  /** The status value of one entry (§7.1), from the cached list or a fresh one. */
  statusOf(reference: StatusListReference): Promise<number>;
  /** Counters since the checker was built, for a health page or metrics. */
  stats(): StatusListCheckerStats;
}

/** What {@link StatusListChecker.stats} counts. */
export interface StatusListCheckerStats {
  /** Answers read from a list past its ttl because no fresh copy could be had. */
  staleAnswers: number;
  /** Fetches of a list that failed: no answer, an HTTP error, or a token that did not verify. */
  refreshFailures: number;
}

interface CachedList {
  readonly bits: StatusListBits;
  readonly bytes: Uint8Array;
  /** Epoch milliseconds (this server's clock) until which the list is used without fetching it again. */
  readonly freshUntil: number;
  /** Epoch milliseconds until which it may still answer when no fresh copy can be had: never past exp + leeway. */
  readonly usableUntil: number;
}

/**
 * A list without `exp` is usable for this many times its ttl after its fetch started: the window
 * the issuer gives its own lists (`exp = iat + 2 × ttl`, idp/src/keys/key-timeline.ts).
 */
const USABLE_TTL_FACTOR_WITHOUT_EXP = 2;

/** How long a list has been past its ttl at `at`, in whole seconds. */
const staleForSec = (list: CachedList, at: number): number => Math.max(0, Math.floor((at - list.freshUntil) / 1000));

const DEFAULTS = {
  defaultTtlSec: 60,
  minTtlSec: 1,
  maxTtlSec: 3600,
  retryAfterSec: 5,
  timeoutMs: 5_000,
  maxTokenBytes: 1024 * 1024,
  maxListBytes: 4 * 1024 * 1024,
  maxLists: 64,
} as const;

const LIST_TYP = normalizeTyp(STATUS_LIST_TOKEN_TYPE);

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TypeError(`${name} must be a positive number`);
  return value;
}

function originOf(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new TypeError(`${name} must be an absolute URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an http(s) URL`);
  return url;
}

const claimError = (message: string) => new TokenVerificationError('ERR_TOKEN_CLAIM', message, { claim: 'status' });
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** §6.2: `status.status_list` holds a non-negative integer `idx` and a string `uri`. */
function referenceOf(claims: object): StatusListReference {
  const { status } = claims as { status?: unknown };
  const statusList = isObject(status) ? status.status_list : undefined;
  if (!isObject(statusList)) throw claimError('the access token has no status list reference');
  const { idx, uri } = statusList;
  if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0)
    throw claimError('the status list idx must be a non-negative integer');
  if (typeof uri !== 'string' || uri === '') throw claimError('the status list uri must be a non-empty string');
  return { idx, uri };
}

/**
 * Builds a checker of access-token statuses against the issuer's Token Status Lists. Pass it to
 * {@link createAccessTokenVerifier} (or `requireBearer`) as `statusLists`. Lists are fetched only
 * from the issuer's origin (or `origins`): a token never makes the API fetch a URL of its choosing
 * (RFC 8725 §3.10's spirit); redirects are not followed. A list must be a JWT of `typ`
 * `statuslist+jwt` signed by a key of `keySet` with that key's algorithm, whose `sub` is the uri
 * asked for, whose `iss`, if any, is the issuer, and which has not expired. It is kept for its
 * `ttl` (within the bounds, never past `exp`); concurrent requests for one list share one fetch.
 *
 * When a list cannot be refreshed after its `ttl` (the issuer down or slow, an HTTP error, an answer
 * that does not verify), the last good copy goes on answering, each such answer counted in
 * {@link StatusListChecker.stats} and each failed refresh logged as `status_list.stale`; the issuer
 * is asked again no sooner than `retryAfterSec` later. The copy answers until its `exp` plus the
 * leeway (§5.1, §8.3: an expired list is not used), or, without `exp`, until twice its `ttl` after its
 * fetch started — the bound this kit's issuer signs into its own lists (`exp = iat + 2 × ttl`);
 * `maxTtlSec` would let a list that asked to be fetched every minute hide revocations for an hour.
 * Only then is the check refused (`ERR_JWKS_UNAVAILABLE`). So while the issuer cannot be reached, a
 * revocation may go unseen for up to that long instead of one `ttl`: see SECURITY.md.
 *
 * @example
 * ```ts
 * const keySet = createRemoteKeySet('https://idp.example.com/jwks');
 * const statusLists = createStatusListChecker({ issuer: 'https://idp.example.com', keySet });
 * app.use(
 *   '/api/*',
 *   requireBearer({ issuer: 'https://idp.example.com', audience: 'https://api.example.com', keySet, statusLists }),
 * );
 * ```
 */
export function createStatusListChecker(options: StatusListCheckerOptions): StatusListChecker {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const issuer = requireNonEmptyString('issuer', options.issuer);
  const keySet = requireKeySet(options.keySet);
  const now = requireNow(options.now) ?? Date.now;
  const clockToleranceSec = requireClockTolerance(options.clockToleranceSec);
  const fetchList: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (typeof fetchList !== 'function') throw new TypeError('fetch must be a function');
  const defaultTtlSec = positive('defaultTtlSec', options.defaultTtlSec, DEFAULTS.defaultTtlSec);
  const minTtlSec = positive('minTtlSec', options.minTtlSec, DEFAULTS.minTtlSec);
  const maxTtlSec = positive('maxTtlSec', options.maxTtlSec, DEFAULTS.maxTtlSec);
  if (minTtlSec > maxTtlSec) throw new TypeError('minTtlSec must not exceed maxTtlSec');
  const retryAfterMs = positive('retryAfterSec', options.retryAfterSec, DEFAULTS.retryAfterSec) * 1000;
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs);
  const maxTokenBytes = positive('maxTokenBytes', options.maxTokenBytes, DEFAULTS.maxTokenBytes);
  const maxListBytes = positive('maxListBytes', options.maxListBytes, DEFAULTS.maxListBytes);
  const maxLists = positive('maxLists', options.maxLists, DEFAULTS.maxLists);
  const log = options.log ?? silentLogger;
  if (typeof log?.warn !== 'function') throw new TypeError('log must be a Logger');
  const origins = new Set([
    originOf('issuer', issuer).origin,
    ...(options.origins ?? []).map((o) => originOf('origins', o).origin),
  ]);

  const cache = new Map<string, CachedList>();
  const failures = new Map<string, { until: number; error: TokenVerificationError }>();
  const inflight = new Map<string, Promise<CachedList>>();

  const remember = <T>(map: Map<string, T>, key: string, value: T) => {
    map.delete(key);
    if (map.size >= maxLists) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  /** Only URLs the issuer's lists live at: never one a token could point anywhere else. */
  function requireAllowedUri(uri: string): void {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw claimError('the status list uri is not an absolute URL');
    }
    if (!origins.has(url.origin) || url.username !== '' || url.password !== '' || url.hash !== '') {
      throw claimError('the status list uri is not on the issuer origin');
    }
  }

  /**
   * §5.1, §8.3 step 3–4: a JWT `statuslist+jwt` from the issuer's keys, about this very uri, checked
   * against this server's clock at `receivedAt`, the moment the list arrived (epoch milliseconds).
   */
  async function verifyListToken(token: string, uri: string, receivedAt: number): Promise<JWTPayload> {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (normalizeTyp(header.typ) !== LIST_TYP)
          throw new Error('not a Status List Token: typ is not statuslist+jwt');
        // The key is chosen by kid alone and used with its own algorithm (RFC 8725 §3.1, §3.10).
        if (typeof header.kid !== 'string' || header.kid === '') throw new Error('the Status List Token has no kid');
        const key = await keySet.getKey(header.kid);
        if (header.alg !== key.alg) throw new Error('the Status List Token algorithm does not match its key');
        return key.key;
      },
      {
        algorithms: [...VERIFICATION_ALGORITHMS],
        subject: uri,
        requiredClaims: ['sub', 'iat', 'status_list'],
        clockTolerance: clockToleranceSec,
        currentDate: new Date(receivedAt),
      },
    );
    if (payload.iss !== undefined && payload.iss !== issuer)
      throw new Error('the Status List Token was issued by another issuer');
    // At the precision the data has: `iat` is a whole second no later than the instant of signing,
    // which came before the list arrived. Compared with the moment the fetch started, or rounded to
    // whole seconds, a fetch that straddles a second boundary would read as "issued in the future".
    if (typeof payload.iat === 'number' && payload.iat * 1000 > receivedAt + clockToleranceSec * 1000) {
      throw new Error('the Status List Token was issued in the future');
    }
    return payload;
  }

  async function load(uri: string): Promise<CachedList> {
    const startedAt = now();
    const response = await fetchList(uri, {
      headers: { accept: STATUS_LIST_MEDIA_TYPE },
      // A redirect could lead anywhere: the list must come from where the token said.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`the status list endpoint answered HTTP ${response.status}`);
    }
    const token = (await readBoundedText(response, maxTokenBytes)).trim();
    const payload = await verifyListToken(token, uri, now());

    // §4.2: bits is 1, 2, 4 or 8; lst the compressed list.
    const statusList = payload.status_list;
    if (
      !isObject(statusList) ||
      !STATUS_LIST_BITS.includes(statusList.bits as StatusListBits) ||
      typeof statusList.lst !== 'string'
    ) {
      throw new Error('the Status List Token has no valid status_list');
    }
    // §5.1: ttl, when present, is a positive number.
    const { ttl, exp } = payload;
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0))
      throw new Error('the Status List Token ttl is not a positive number');
    const bytes = await inflateStatusList(statusList.lst, maxListBytes);
    // §8.3 step 4.4: a fresh copy once ttl has passed since it was resolved, counted from the start of
    // the fetch (the list may have been signed then); never past exp, with the same leeway jose gave it.
    const keepMs = Math.min(Math.max(typeof ttl === 'number' ? ttl : defaultTtlSec, minTtlSec), maxTtlSec) * 1000;
    const usableUntil =
      typeof exp === 'number'
        ? (exp + clockToleranceSec) * 1000
        : // No exp: the issuer set no bound; its ttl says how old a list it tolerates, so twice that.
          startedAt + USABLE_TTL_FACTOR_WITHOUT_EXP * keepMs;
    const freshUntil = Math.min(startedAt + keepMs, usableUntil);
    return { bits: statusList.bits as StatusListBits, bytes, freshUntil, usableUntil };
  }

  const counters: StatusListCheckerStats = { staleAnswers: 0, refreshFailures: 0 };
  const usable = (list: CachedList | undefined, at: number): list is CachedList =>
    list !== undefined && at < list.usableUntil;
  const stale = (list: CachedList): CachedList => {
    counters.staleAnswers++;
    return list;
  };

  /**
   * Fetches the list once, for every caller that waits meanwhile. A failure is remembered for
   * retryAfterSec; the copy held, if still usable, is kept (and reported) rather than dropped.
   */
  function refresh(uri: string): Promise<CachedList> {
    const pending = load(uri).then(
      (list) => {
        const held = cache.get(uri);
        if (failures.delete(uri) && held !== undefined) {
          log.info('status_list.refreshed', { uri, staleForSec: staleForSec(held, now()) });
        }
        remember(cache, uri, list);
        return list;
      },
      (cause: unknown) => {
        counters.refreshFailures++;
        const at = now();
        const error = new TokenVerificationError(
          'ERR_JWKS_UNAVAILABLE',
          'the token status list could not be fetched or verified',
          { claim: 'status', cause },
        );
        remember(failures, uri, { until: at + retryAfterMs, error });
        const held = cache.get(uri);
        if (usable(held, at)) {
          log.warn('status_list.stale', {
            uri,
            staleForSec: staleForSec(held, at),
            usableForSec: Math.floor((held.usableUntil - at) / 1000),
            staleAnswers: counters.staleAnswers,
            ...describeError(error),
          });
        } else {
          cache.delete(uri);
        }
        throw error;
      },
    );
    const shared = pending.finally(() => inflight.delete(uri));
    // Callers await `shared`; a failure nobody awaits must not surface as an unhandled rejection.
    shared.catch(() => undefined);
    inflight.set(uri, shared);
    return shared;
  }

  /**
   * The list, fetched unless a fresh copy is held; `uri` must have passed requireAllowedUri. When no
   * fresh copy can be had, the held one answers while usable (the issuer down, slow, or answering
   * with something that does not verify: whoever can spoil the answer could as well drop it, and
   * gets no more than that); the check is refused only when no usable copy is left.
   */
  async function listAt(uri: string): Promise<CachedList> {
    const at = now();
    const held = cache.get(uri);
    const failed = failures.get(uri);
    if (failed !== undefined && at < failed.until) {
      // Asked a moment ago and failed: not again before retryAfterSec, however many requests come.
      if (usable(held, at)) return stale(held);
      throw failed.error;
    }
    const pending = inflight.get(uri);
    // A retry of a list that failed last time: one caller waits for it, the others need not.
    if (pending !== undefined && failed !== undefined && usable(held, at)) return stale(held);
    try {
      return await (pending ?? refresh(uri));
    } catch (error) {
      const fallback = cache.get(uri);
      if (usable(fallback, now())) return stale(fallback);
      throw error;
    }
  }

  /** The status at a reference already shaped as §6.2 asks. */
  async function statusAtReference({ idx, uri }: StatusListReference): Promise<number> {
    // The hot path: a fresh list held for this uri (only allowed uris are ever held), no await.
    const cached = cache.get(uri);
    let list: CachedList;
    if (cached !== undefined && now() < cached.freshUntil) {
      list = cached;
    } else {
      requireAllowedUri(uri);
      list = await listAt(uri);
    }
    const value = statusAt(list.bytes, list.bits, idx);
    // §8.3 step 6: an index past the end of the list is a failure, not a VALID.
    if (value === undefined) throw claimError('the status list has no entry at the token idx');
    return value;
  }

  return {
    stats: () => ({ ...counters }),
    statusOf: async (reference) => statusAtReference(referenceOf({ status: { status_list: reference } })),
    async check(claims) {
      const value = await statusAtReference(referenceOf(claims));
      if (value !== TOKEN_STATUS.valid) {
        throw new TokenVerificationError(
          'ERR_TOKEN_REVOKED',
          value === TOKEN_STATUS.suspended ? 'the access token is suspended' : 'the access token has been revoked',
          { claim: 'status' },
        );
      }
    },
  };
}
