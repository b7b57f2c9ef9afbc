/**
 * Conditional GET (RFC 9110 §13.1.2): whether a client's cached copy is the current one, so the
 * server answers 304 with no body. The ETag is the caller's, computed when the representation
 * changes — never here, per request. Browser-safe.
 */

/**
 * Whether the If-None-Match field value `ifNoneMatch` matches `etag`, the current representation's
 * entity tag: `*`, or a list naming it under the weak comparison (§8.8.3.2: `W/"x"` matches `"x"`),
 * which is what §13.1.2 asks of If-None-Match. An absent or unparsable field matches nothing, so
 * the full representation is sent.
 *
 * @example
 * ```ts
 * c.header('ETag', etag);
 * if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
 * ```
 */
export function matchesIfNoneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const current = opaqueTag(etag);
  // #entity-tag (§5.6.1): read tag by tag, not split on commas: an opaque-tag may hold a comma.
  let at = 0;
  while (at < ifNoneMatch.length) {
    const char = ifNoneMatch[at];
    if (char === ' ' || char === '\t' || char === ',') {
      at++;
      continue;
    }
    const quote = ifNoneMatch.startsWith('W/"', at) ? at + 2 : at;
    if (ifNoneMatch[quote] === '"') {
      const end = ifNoneMatch.indexOf('"', quote + 1);
      if (end === -1) return false;
      if (ifNoneMatch.slice(quote, end + 1) === current) return true;
      at = end + 1;
    } else {
      // Not an entity-tag: this list element is passed over.
      const comma = ifNoneMatch.indexOf(',', at);
      if (comma === -1) return false;
      at = comma + 1;
    }
  }
  return false;
}

/** The quoted opaque-tag of an entity-tag: what the weak comparison compares (§8.8.3.2). */
const opaqueTag = (etag: string): string => (etag.startsWith('W/') ? etag.slice(2) : etag);
