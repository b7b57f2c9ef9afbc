/** Option checks shared by the relying-party helpers (internal). A misuse is a TypeError. */

/** `value` parsed as an absolute URL; one that does not parse is a TypeError saying `refusal`. */
function parseAbsolute(value: unknown, refusal: string): URL {
  try {
    return new URL(value as string | URL);
  } catch (cause) {
    throw new TypeError(refusal, { cause });
  }
}

/** An absolute http(s) URL without a fragment. */
export function requireHttpUrl(name: string, value: unknown): URL {
  const url = parseAbsolute(value, `${name} must be an absolute URL`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an http(s) URL`);
  if (url.hash !== '') throw new TypeError(`${name} must not have a fragment`); // RFC 6749 §3.1, §3.1.2
  return url;
}

/** An absolute URI without a fragment, any scheme (native apps use private-use schemes, RFC 8252 §7.1). */
export function requireAbsoluteUri(name: string, value: unknown): string {
  const url = parseAbsolute(value, `${name} must be an absolute URI`);
  if (url.hash !== '') throw new TypeError(`${name} must not have a fragment`);
  return String(value);
}

/** A non-empty string option. */
export function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** An optional non-empty string option. */
export function optionalString(name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : requireString(name, value);
}

/** Resource indicator option as a list; RFC 8707 §2: each resource is an absolute URI without a fragment. */
export function resourceList(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new TypeError('resource must be a URI or an array of URIs');
  return list.map((resource: unknown) => {
    const url = parseAbsolute(resource, 'each resource must be an absolute URI (RFC 8707 §2)');
    if (url.hash !== '') throw new TypeError('a resource must not have a fragment (RFC 8707 §2)');
    return resource as string;
  });
}
