/**
 * The issuer's token status lists (draft-ietf-oauth-status-list-21): an index for every access
 * token, revocations recorded as bits, and each list served as a signed Status List Token.
 *
 * A list's token is signed again only when the list changed since it was signed (its version in
 * the store moved) or when too little of its life is left to be cached for a whole `ttl`, never
 * per request. Its bit array is read from the store once, then patched in memory for revocations
 * made through this process; a version moved by anything else (another issuer instance, a code
 * replay revoked inside the store) makes the next build read it again.
 */
import { createHash } from 'node:crypto';
import { STATUS_LIST_TOKEN_TYPE } from '@tessera/shared';
import { epochSeconds, type Clock } from '@tessera/shared';
import type { Config } from '../config/config.js';
import type { KeyRing } from '../keys/key-ring.js';
import { STATUS_LIST_TOKEN_TTL_FACTOR } from '../keys/key-timeline.js';
import type { Store } from '../store/index.js';
import { STATUS_BITS, STATUS_INVALID, byteLength, encodeStatusList, setStatus } from './bit-array.js';

/** Where the lists are served: `${issuer}/statuslists/<id>`, and the aggregation (§9) at the bare path. */
export const STATUS_LIST_PATH = '/statuslists';
/**
 * 2^20 tokens per list: 128 KiB of bits, which compress to a few hundred bytes while few of them
 * are revoked, and one list is shared by enough tokens for herd privacy (§12).
 */
const DEFAULT_STATUS_LIST_SIZE = 2 ** 20;

/** The status claim's reference of one token (§6.2), with the list id the store knows it by. */
export interface StatusListReference {
  list: number;
  index: number;
  uri: string;
}

/** A signed Status List Token, as served. */
export interface PublishedStatusList {
  token: string;
  /** A strong ETag of the token (RFC 9110 §8.8.3). */
  etag: string;
  /** The list version it was built from. */
  version: number;
  /** `exp`, in milliseconds. */
  expiresAt: number;
}

/** One list's bit array at one version. Its bytes never change once built: a patch makes a new one. */
interface Bits {
  version: number;
  bytes: Uint8Array;
  lst?: string;
}

export interface StatusListDeps {
  store: Store;
  keys: KeyRing;
  config: Config;
  clock: Clock;
}

export class StatusLists {
  readonly #deps: StatusListDeps;
  readonly #size: number;
  readonly #cachedLists: number;
  readonly #bits = new Map<number, Bits>();
  readonly #published = new Map<number, PublishedStatusList>();
  readonly #publishing = new Map<number, Promise<PublishedStatusList | undefined>>();
  readonly #blockSize: number;
  #block: { list: number; next: number; end: number } | undefined;
  #reserving: Promise<void> | undefined;

  /** `size`: entries of each new list; `cachedLists`: how many lists' bits and tokens stay in memory. */
  constructor(deps: StatusListDeps, options: { size?: number; cachedLists?: number; blockSize?: number } = {}) {
    this.#deps = deps;
    this.#size = options.size ?? DEFAULT_STATUS_LIST_SIZE;
    this.#blockSize = options.blockSize ?? 256;
    this.#cachedLists = options.cachedLists ?? 16;
    if (!Number.isInteger(this.#size) || this.#size < 1) throw new TypeError('size must be a positive integer');
  }

  /** The `uri` of a list: also the `sub` of its Status List Token (§5.1). */
  uri(list: number): string {
    return `${this.#deps.config.issuer}${STATUS_LIST_PATH}/${list}`;
  }

  /**
   * An index for a new access token. Indices are reserved from the store in blocks (one
   * `UPDATE … RETURNING` per block) and handed out from memory, so issuing a token costs no
   * extra write. A crash forgets the rest of a block: those indices are never used, and their
   * bits stay 0, which is harmless.
   */
  async allocate(): Promise<StatusListReference> {
    // Many callers may wait on one reservation; each takes an index only while the block has one.
    for (;;) {
      const block = this.#block;
      if (block && block.next < block.end) {
        const index = block.next++;
        return { list: block.list, index, uri: this.uri(block.list) };
      }
      this.#reserving ??= this.#reserve().finally(() => {
        this.#reserving = undefined;
      });
      await this.#reserving;
    }
  }

  async #reserve(): Promise<void> {
    const count = Math.min(this.#blockSize, this.#size);
    const { list, index } = await this.#deps.store.statusLists.allocate(this.#deps.clock.now(), this.#size, count);
    this.#block = { list, next: index, end: index + count };
  }

  /**
   * Records that these access tokens were just revoked: the versions of their lists move, so the
   * next request for a list gets its bits set. Every revocation path calls this, or moves the
   * version itself inside the store.
   */
  async revoked(jtis: readonly string[]): Promise<void> {
    if (jtis.length === 0) return;
    const changes = await this.#deps.store.statusLists.markRevoked(jtis, this.#deps.clock.now());
    for (const change of changes) {
      const bits = this.#bits.get(change.list);
      if (bits?.version === change.version) continue; // already read back from the store with it
      if (bits?.version !== change.previousVersion) {
        // Something else changed the list in between: read it whole next time.
        this.#bits.delete(change.list);
        continue;
      }
      const bytes = bits.bytes.slice();
      for (const index of change.indices) setStatus(bytes, STATUS_BITS, index, STATUS_INVALID);
      this.#bits.set(change.list, { version: change.version, bytes });
    }
  }

  /** The current Status List Token of a list, or undefined when there is no such list. */
  async token(list: number): Promise<PublishedStatusList | undefined> {
    const row = await this.#deps.store.statusLists.find(list);
    if (!row) return undefined;
    for (;;) {
      const current = this.#published.get(list);
      if (current !== undefined && current.version >= row.updatedAt && this.#cacheable(current)) {
        this.#touch(this.#published, list, current);
        return current;
      }
      let pending = this.#publishing.get(list);
      if (pending === undefined) {
        // Concurrent requests for the same list share one build.
        pending = this.#publish(list).finally(() => this.#publishing.delete(list));
        this.#publishing.set(list, pending);
      }
      const built = await pending;
      if (built === undefined || built.version >= row.updatedAt) return built;
      // A build that started before the change we saw: build again.
    }
  }

  /** §9: the lists that may still describe unexpired access tokens. */
  async aggregation(): Promise<string[]> {
    const since = this.#deps.clock.now() - this.#deps.config.accessTokenTtl * 1000;
    return (await this.#deps.store.statusLists.listIdsSince(since)).map((id) => this.uri(id));
  }

  /** True while a consumer may cache it for a whole `ttl` without holding an expired token. */
  #cacheable(published: PublishedStatusList): boolean {
    return published.expiresAt - this.#deps.clock.now() >= this.#deps.config.statusListTtl * 1000;
  }

  async #publish(list: number): Promise<PublishedStatusList | undefined> {
    const { store, keys, config, clock } = this.#deps;
    const row = await store.statusLists.find(list);
    if (!row) return undefined;
    let bits = this.#bits.get(list);
    if (bits === undefined || bits.version !== row.updatedAt) {
      const snapshot = await store.statusLists.snapshot(list);
      if (!snapshot) return undefined;
      const bytes = new Uint8Array(byteLength(snapshot.size, STATUS_BITS));
      for (const index of snapshot.revoked)
        if (index < snapshot.size) setStatus(bytes, STATUS_BITS, index, STATUS_INVALID);
      bits = { version: snapshot.version, bytes };
    }
    bits.lst ??= encodeStatusList(bits.bytes);
    const held = this.#bits.get(list);
    if (held === undefined || held.version <= bits.version) this.#touch(this.#bits, list, bits);

    const iat = epochSeconds(clock);
    const ttl = config.statusListTtl;
    // Twice the ttl: a copy served is good for a whole ttl in a consumer's cache, and a stale copy
    // stops being usable soon after (§13.7: a list outliving the tokens it describes adds nothing).
    const exp = iat + STATUS_LIST_TOKEN_TTL_FACTOR * ttl;
    const uri = this.uri(list);
    // §5.1: sub is the list's uri; iss lets a verifier tie the list to the access token's issuer.
    const token = await keys.sign(
      {
        iss: config.issuer,
        sub: uri,
        iat,
        exp,
        ttl,
        status_list: { bits: STATUS_BITS, lst: bits.lst, aggregation_uri: config.issuer + STATUS_LIST_PATH },
      },
      STATUS_LIST_TOKEN_TYPE,
    );
    const published: PublishedStatusList = {
      token,
      etag: `"${createHash('sha256').update(token).digest('base64url')}"`,
      version: bits.version,
      expiresAt: exp * 1000,
    };
    const previous = this.#published.get(list);
    if (previous === undefined || previous.version <= published.version) this.#touch(this.#published, list, published);
    return published;
  }

  /** Keeps `value` as the most recently used entry, dropping the least recently used past the bound. */
  #touch<T>(map: Map<number, T>, list: number, value: T): void {
    map.delete(list);
    map.set(list, value);
    while (map.size > this.#cachedLists) map.delete(map.keys().next().value!);
  }
}
