/**
 * Whether a URL's host is loopback, where plain http is allowed: `localhost` and names under it
 * (RFC 6761 §6.3) and the loopback addresses (RFC 8252 §7.3). Compares `URL.hostname`, which is
 * already lower case, with IPv6 in brackets. Browser-safe.
 */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]'
  );
}
