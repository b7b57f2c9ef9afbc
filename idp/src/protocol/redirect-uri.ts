/** Rules for redirect URIs, at registration and at use. */
import { isLoopbackHost } from '@tessera/shared';

/**
 * A URI a client may register as a redirect or post-logout redirect: absolute, no fragment
 * (RFC 6749 §3.1.2), https unless the host is loopback (RFC 8252 §7.3, RFC 6761 §6.3).
 * Returns the reason it is refused, or undefined when it is acceptable.
 */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopbackHost(url.hostname) ? undefined : 'must use https unless the host is loopback';
  return 'must use https (or http on a loopback host)';
}

/** Exact string comparison (RFC 9700 §2.1, §4.1.3): no normalisation, no prefix or pattern matching. */
export function isRegisteredRedirectUri(registered: readonly string[], uri: string): boolean {
  return registered.includes(uri);
}
