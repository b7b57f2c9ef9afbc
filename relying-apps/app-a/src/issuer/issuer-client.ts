/**
 * What app A knows of its issuer: the metadata from discovery, fetched once and kept, and the
 * issuer's keys from the `jwks_uri` it names (cached and refreshed by the shared remote key set).
 */
import {
  ISSUER_PATHS,
  TokenVerificationError,
  createRemoteKeySet,
  type FetchLike,
  type KeySet,
  type ProviderMetadata,
  type RemoteKeySet,
} from '@tessera/shared';
import { withNodeSignatures } from '@tessera/shared/node';
import type { Clock } from '../clock.js';

/** The issuer could not be reached, or its metadata is unusable. */
export class IssuerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IssuerUnavailableError';
  }
}

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

/** Discovery is fetched on first use and kept; a failure is retried, no sooner than after 5 s. */
export function createIssuerClient(options: { issuer: string; fetch: FetchLike; clock: Clock }): IssuerClient {
  const { issuer, fetch, clock } = options;
  let loaded: Promise<{ metadata: ProviderMetadata; keySet: RemoteKeySet }> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;

  const load = () => {
    if (loaded === undefined && clock.now() - failedAt < RETRY_AFTER_MS) {
      return Promise.reject(new IssuerUnavailableError('the issuer metadata could not be fetched recently; retrying shortly'));
    }
    loaded ??= discover(issuer, fetch).then(
      // Server-side: signatures checked with node:crypto, several times cheaper than Web Crypto here.
      (metadata) => ({ metadata, keySet: withNodeSignatures(createRemoteKeySet(metadata.jwks_uri, { fetch, now: () => clock.now() })) }),
      (error: unknown) => {
        loaded = undefined;
        failedAt = clock.now();
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
    },
  };
}
