/**
 * Strict reading of application/x-www-form-urlencoded text (query strings and form bodies), by
 * the shared kit's parser: input URLSearchParams would silently repair is refused as
 * invalid_request instead (RFC 6749 §5.2). The count and length limits are readParams' own
 * (protocol/params.ts), so the shared ones are off here.
 */
import { MalformedRequestError, OAuthError, parseUrlencoded as parseStrictly } from '@tessera/shared';

/** Parses `input` (text, or the raw bytes of a body) after checking its encoding. */
export function parseUrlencoded(input: string | Uint8Array): URLSearchParams {
  try {
    return parseStrictly(input, { limits: false });
  } catch (error) {
    if (error instanceof MalformedRequestError) throw new OAuthError('invalid_request', error.description);
    throw error;
  }
}
