/**
 * The signing key ring, as this process sees it: the stored keys imported once and reused for
 * every signature. The JWKS document, its ETag and the algorithm list are computed when the ring
 * changes, not per request. Which key is in which state is decided in key-rotation.ts; the ring
 * only follows the store (see `refresh`, and `upToDate` for what every process must publish alike).
 */
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { SigningAlgorithm } from '@tessera/shared';
import type { Clock } from '@tessera/shared';
import type { SigningKeyRepository, StoredSigningKey } from '../store/signing-keys.js';
import { generateSigningKey, importPrivateKey, importPublicKey, type Key } from './signing-key-material.js';

const base64url = (s: string): string => Buffer.from(s).toString('base64url');

/**
 * node:crypto's `sign` given a callback runs on libuv's thread pool: the event loop goes on
 * serving other requests while a key signs, two signatures per grant. ES256 as the 64-byte R‖S
 * that JWS asks for (RFC 7518 §3.4), EdDSA over the message itself (RFC 8037 §3.1), RS256 as
 * PKCS #1 v1.5.
 */
function signOffTheLoop(alg: SigningAlgorithm, data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, signature: Buffer) => (error ? reject(error) : resolve(signature));
    if (alg === 'ES256') cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, done);
    else cryptoSign(alg === 'EdDSA' ? null : 'sha256', data, key, done);
  });
}

interface ImportedKey {
  kid: string;
  alg: string;
  publicKey: Key;
  /** Only for the current and next keys: a retired key never signs again. */
  privateKey?: Key;
}

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: Key;
}

export interface Jwks {
  /** The serialized JWKS document. */
  body: string;
  /** A strong ETag of the body (RFC 9110 §8.8.3). */
  etag: string;
}

/** Everything derived from one reading of the store, swapped in as a whole. */
interface Loaded {
  fingerprint: string;
  signing: SigningKey;
  verifying: Map<string, ImportedKey>;
  verifyAlgorithms: string[];
  algorithms: string[];
  document: Jwks;
  /** The encoded protected header per `typ`: one per kind of token, as long as this key signs. */
  headers: Map<string, string>;
}

/**
 * RFC 7517 §5.1: the order of keys in a set means nothing, so the document is sorted by kid:
 * it then depends only on which keys are published, not on their states, and a promotion on its
 * own does not make caches download the same keys again.
 */
const byKid = (a: StoredSigningKey, b: StoredSigningKey) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);

export class KeyRing {
  private loaded!: Loaded;
  private refreshing: Promise<unknown> = Promise.resolve();
  /** The check `upToDate`'s callers join until it starts. */
  private nextCheck: Promise<void> | undefined;

  private constructor(
    private readonly repo: SigningKeyRepository,
    private readonly kek: Uint8Array,
    private readonly clock: Clock,
    private readonly onReload: ((ring: KeyRing) => void) | undefined,
  ) {}

  /**
   * Loads the ring, generating a first current key when there is none. The very first key signs
   * at once: no token, and so no cache of ours, exists yet. Every later key comes in as `next`.
   */
  static async open(opts: {
    repo: SigningKeyRepository;
    kek: Uint8Array;
    clock: Clock;
    algorithm: SigningAlgorithm;
    /** Called after each reload that found the ring changed (not after the first load). */
    onReload?: (ring: KeyRing) => void;
  }): Promise<KeyRing> {
    const ring = new KeyRing(opts.repo, opts.kek, opts.clock, opts.onReload);
    if (!(await opts.repo.list()).some((k) => k.state === 'current')) {
      await opts.repo.createFirstCurrent(
        await generateSigningKey(opts.algorithm, 'current', opts.kek, opts.clock.now()),
      );
    }
    await ring.refresh();
    return ring;
  }

  /**
   * Re-reads the ring when the store changed (here or in another process, such as the CLI):
   * a cheap fingerprint is compared first, and keys already imported are reused. True when it
   * changed. On error (a key this process cannot decrypt) the ring in use is kept.
   */
  refresh(): Promise<boolean> {
    // One at a time, so an older reading never replaces a newer one.
    const run = this.refreshing.then(() => this.refreshNow());
    this.refreshing = run.catch(() => false);
    return run;
  }

  /**
   * Resolves once the ring is the one the store holds now, as far as this process can follow it:
   * what one process publishes at jwks_uri and in discovery, every other process on the same
   * database publishes from then on too, on either engine, so a cache revalidating against one
   * process and then another never goes back to an older document (or a kid it cannot find). On
   * SQLite this costs a `PRAGMA data_version` read while no other connection has committed, and one
   * read of the kids and states once one has; on PostgreSQL one read of the kids and states
   * (store/pg/signing-keys.ts). Never rejects: on error the ring in use is kept.
   */
  upToDate(): Promise<void> {
    // Callers join the check that has not started yet. It starts after each of them asked, so it
    // sees every commit made before any of their requests arrived, which is all the promise above
    // needs; and it starts on the loop's check phase (setImmediate), once the requests read in the
    // same turn have all asked. A burst of JWKS and discovery requests then costs one read of the
    // store, not one each: that read was a tenth of the server's CPU per JWKS request.
    this.nextCheck ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.nextCheck = undefined;
        void this.refresh()
          .catch(() => false)
          .then(() => resolve());
      }),
    );
    return this.nextCheck;
  }

  /**
   * Whether this process signs with the key the store says is current: false when the ring could
   * not follow the store (a key written with another key-encryption key, which this process cannot
   * decrypt, so it goes on signing with a key the others have retired). Rejects when the store does
   * not answer.
   */
  async signsWithStoredCurrentKey(): Promise<boolean> {
    await this.upToDate();
    const current = (await this.repo.list()).find((k) => k.state === 'current');
    return current !== undefined && current.kid === this.loaded.signing.kid;
  }

  private async refreshNow(): Promise<boolean> {
    const fingerprint = await this.repo.fingerprint();
    if (this.loaded?.fingerprint === fingerprint) return false;
    const reload = this.loaded !== undefined;
    // Rows written between the two reads only make the next refresh load once more.
    this.loaded = await this.load(fingerprint, await this.repo.list());
    if (reload) this.onReload?.(this);
    return true;
  }

  private async load(fingerprint: string, stored: StoredSigningKey[]): Promise<Loaded> {
    const previous = this.loaded?.verifying;
    const verifying = new Map<string, ImportedKey>();
    let signing: SigningKey | undefined;
    const published = [...stored].sort(byKid);
    for (const k of published) {
      const known = previous?.get(k.kid);
      const publicKey = known?.publicKey ?? (await importPublicKey(k));
      const signs = k.state === 'current' || k.state === 'next';
      // Decrypting the next key now proves, before it is needed, that it opens with our KEK.
      const privateKey = signs ? (known?.privateKey ?? (await importPrivateKey(k, this.kek))) : undefined;
      verifying.set(k.kid, { kid: k.kid, alg: k.alg, publicKey, ...(privateKey ? { privateKey } : {}) });
      if (k.state === 'current' && !signing)
        signing = { kid: k.kid, alg: k.alg as SigningAlgorithm, privateKey: privateKey! };
    }
    if (!signing) throw new Error('the key ring has no current signing key');
    const body = JSON.stringify({ keys: published.map((k) => k.publicJwk) });
    const verifyAlgorithms = [...new Set(published.map((k) => k.alg))];
    return {
      fingerprint,
      signing,
      verifying,
      verifyAlgorithms,
      algorithms: [...new Set([signing.alg, ...verifyAlgorithms])],
      document: { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` },
      headers: new Map(),
    };
  }

  /** The JWKS document served at jwks_uri: every published key (next, current, retired). */
  get jwks(): Jwks {
    return this.loaded.document;
  }

  /** The kid of the key new tokens are signed with. */
  get kid(): string {
    return this.loaded.signing.kid;
  }

  /** The algorithm new tokens are signed with. */
  get algorithm(): SigningAlgorithm {
    return this.loaded.signing.alg;
  }

  /** Every algorithm of a published key, the signing one first (for discovery). */
  get algorithms(): string[] {
    return this.loaded.algorithms;
  }

  /**
   * Signs a JWT (RFC 7515 §5.1, compact serialization) with the current key; `typ` goes in the
   * protected header. The signature is made off the event loop (signOffTheLoop).
   */
  async sign(claims: JWTPayload, typ: string): Promise<string> {
    const { signing, headers } = this.loaded;
    let header = headers.get(typ);
    if (header === undefined) {
      header = base64url(JSON.stringify({ alg: signing.alg, kid: signing.kid, typ }));
      headers.set(typ, header);
    }
    const input = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = await signOffTheLoop(signing.alg, Buffer.from(input), signing.privateKey as KeyObject);
    return `${input}.${signature.toString('base64url')}`;
  }

  /**
   * Verifies a JWT signed by this issuer with any published key. The key is chosen by `kid`
   * among our own keys and the algorithm comes from that key, never from the token (RFC 8725
   * §2.1, §3.1). `ignoreExpiry` lets an expired token through and nothing else: its signature,
   * `typ`, `iss`, `aud`, `iat` and `nbf` are checked as for any other.
   */
  async verify(
    token: string,
    options: { issuer: string; typ: string; audience?: string; ignoreExpiry?: boolean },
  ): Promise<{ payload: JWTPayload }> {
    const { verifying, verifyAlgorithms } = this.loaded;
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const k = header.kid === undefined ? undefined : verifying.get(header.kid);
          if (!k || header.alg !== k.alg) throw new Error('unknown key or algorithm');
          return k.publicKey;
        },
        {
          issuer: options.issuer,
          typ: options.typ,
          algorithms: verifyAlgorithms,
          currentDate: new Date(this.clock.now()),
          ...(options.audience ? { audience: options.audience } : {}),
        },
      );
      return { payload };
    } catch (e) {
      // jose checks `exp` after the signature and every other claim (and `iat` only with
      // maxTokenAge, unused here), so an expiry error means nothing else was wrong.
      if (options.ignoreExpiry && e instanceof errors.JWTExpired && e.claim === 'exp') return { payload: e.payload };
      throw e;
    }
  }

  /** Hash for `at_hash` (OIDC Core §3.1.3.6): the hash of the signing algorithm. */
  tokenHash(token: string): string {
    const hash = this.loaded.signing.alg === 'EdDSA' ? 'sha512' : 'sha256';
    const d = createHash(hash).update(token, 'ascii').digest();
    return d.subarray(0, d.length / 2).toString('base64url');
  }
}
