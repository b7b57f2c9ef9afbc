/** Rules for the origins a client registers for FedCM (docs/architecture.md, "FedCM"). */
import { isLoopbackHost } from '@tessera/shared';

/**
 * An origin a client may register for FedCM: `scheme://host[:port]` exactly as a browser sends it
 * in `Origin` (RFC 6454 §6.2: no path, query, fragment or user info, lower-case, default port
 * left out), since the assertion endpoint compares it to that header as a string. https, or http
 * on localhost, *.localhost or a loopback address (browsers treat those as secure contexts).
 * Returns the reason it is refused, or undefined when it is acceptable.
 */
export function fedcmOriginProblem(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'is not an origin (scheme://host[:port])';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https (or http on a loopback host)';
  if (url.origin !== origin) return 'must be scheme://host[:port] only, as a browser sends it (no path, no slash)';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    return 'must use https unless the host is localhost, *.localhost or loopback';
  return undefined;
}

/** A URI shown by the FedCM dialog (RFC 7591 §2 policy_uri, tos_uri): https, or http on a local host. */
export function publicPageUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https (or http on a loopback host)';
}
