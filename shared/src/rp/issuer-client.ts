/**
 * What a relying party's server knows of its issuer: the metadata from discovery, fetched once and
 * kept, and the issuer's keys from the `jwks_uri` it names (cached and refreshed by the remote key
 * set). Browser-safe; a Node server passes `wrapKeySet: withNodeSignatures` from
 * `@tessera/shared/node`.
 */
import type { FetchLike } from '../http/fetch-like.js';
import type { KeySet } from '../jwks/key-set.js';
import { createRemoteKeySet, type RemoteKeySet } from '../jwks/remote-key-set.js';
import { ISSUER_PATHS, type ProviderMetadata } from '../protocol.js';
import { TokenVerificationError } from '../verify/errors.js';
import { IssuerUnavailableError } from './errors.js';

/** How {@link createIssuerClient} reaches its issuer. */
export interface IssuerClientOptions {
  /** The issuer identifier, exactly as its metadata must name it. */
  issuer: string;
  /** The HTTP client for discovery and the JWKS. */
  fetch: FetchLike;
  /** Milliseconds since the epoch: drives the retry window and the key set's cache. */
  now: () => number;
  /** Wraps the key set once it is created (on Node: `withNodeSignatures`). */
  wrapKeySet?: (keySet: RemoteKeySet) => RemoteKeySet;
}

/** The issuer as a relying party's server uses it. */
export interface IssuerClient {
  /** The issuer's metadata (OIDC Discovery 1.0 §3); rejects with IssuerUnavailableError. */
  metadata(): Promise<ProviderMetadata>;
  /** The issuer's keys, for the shared verifiers. */
  keySet: KeySet;
}

/** After a failed discovery, requests wait this long before trying again, so an outage is not a flood. */
const RETRY_AFTER_MS = 5_000;
const TIMEOUT_MS = 5_000;

const isHttpUrl = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};

async function discover(issuer: string, fetch: FetchLike): Promise<ProviderMetadata> {
  let document: unknown;
  try {
    const response = await fetch(issuer + ISSUER_PATHS.discovery, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    document = await response.json();
  } catch (cause) {
    throw new IssuerUnavailableError('the issuer metadata could not be fetched', { cause });
  }
  const metadata = document as Partial<ProviderMetadata> | null;
  // OIDC Discovery 1.0 §4.3: the issuer in the metadata MUST be exactly the one asked for.
  if (typeof metadata !== 'object' || metadata === null || metadata.issuer !== issuer) {
    throw new IssuerUnavailableError('the issuer metadata names another issuer');
  }
  for (const member of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (!isHttpUrl(metadata[member])) throw new IssuerUnavailableError(`the issuer metadata has no usable ${member}`);
  }
  if (metadata.end_session_endpoint !== undefined && !isHttpUrl(metadata.end_session_endpoint)) {
    throw new IssuerUnavailableError('the issuer metadata has an unusable end_session_endpoint');
  }
  return metadata as ProviderMetadata;
}

/**
 * An issuer client: discovery is fetched on first use and kept; a failure is retried, no sooner
 * than 5 s after it. The key set waits for discovery; when that fails, it throws
 * TokenVerificationError `ERR_JWKS_UNAVAILABLE`, which verifiers answer with 503, not 401.
 *
 * @example
 * ```ts
 * import { createIssuerClient } from '@tessera/shared';
 * import { withNodeSignatures } from '@tessera/shared/node';
 * const issuer = createIssuerClient({
 *   issuer: 'https://idp.example',
 *   fetch,
 *   now: Date.now,
 *   wrapKeySet: withNodeSignatures,
 * });
 * const { authorization_endpoint } = await issuer.metadata();
 * await verifyAccessToken(token, { issuer: 'https://idp.example', audience, keySet: issuer.keySet });
 * ```
 */
export function createIssuerClient(options: IssuerClientOptions): IssuerClient {
  const { issuer, fetch, now, wrapKeySet = (keySet: RemoteKeySet) => keySet } = options;
  let loaded: Promise<{ metadata: ProviderMetadata; keySet: RemoteKeySet }> | undefined;
  /** The key set once discovery has succeeded (it is never dropped after). */
  let discoveredKeySet: RemoteKeySet | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;

  const load = () => {
    if (loaded === undefined && now() - failedAt < RETRY_AFTER_MS) {
      return Promise.reject(
        new IssuerUnavailableError('the issuer metadata could not be fetched recently; retrying shortly'),
      );
    }
    loaded ??= discover(issuer, fetch).then(
      (metadata) => {
        discoveredKeySet = wrapKeySet(createRemoteKeySet(metadata.jwks_uri, { fetch, now: () => now() }));
        return { metadata, keySet: discoveredKeySet };
      },
      (error: unknown) => {
        loaded = undefined;
        failedAt = now();
        throw error;
      },
    );
    return loaded;
  };

  return {
    metadata: async () => (await load()).metadata,
    keySet: {
      async getKey(kid) {
        let keySet: RemoteKeySet;
        try {
          ({ keySet } = await load());
        } catch (cause) {
          // Not the token's fault: verifiers answer 503, not 401, for this code.
          throw new TokenVerificationError('ERR_JWKS_UNAVAILABLE', 'the issuer keys could not be located', { cause });
        }
        return keySet.getKey(kid);
      },
      keyInHand: (kid) => discoveredKeySet?.keyInHand?.(kid),
    },
  };
}
