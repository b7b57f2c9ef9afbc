/**
 * Strict reading of application/x-www-form-urlencoded text (query strings and form bodies).
 * URLSearchParams repairs bad input without a word — a stray `%` stays as it is, bytes that are
 * not UTF-8 become U+FFFD — so a parameter could differ from what the client sent. Here such input
 * is refused as invalid_request instead (RFC 6749 §5.2; WHATWG URL §5.1 on what is well-formed).
 */
import { OAuthError } from '@tessera/shared';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Parses `input` (text, or the raw bytes of a body) after checking its encoding. */
export function parseUrlencoded(input: string | Uint8Array): URLSearchParams {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = UTF8.decode(input);
    } catch {
      throw new OAuthError('invalid_request', 'the request body is not valid UTF-8');
    }
  }
  for (const pair of text.split('&')) {
    // decodeURIComponent throws on a `%` without two hex digits and on bytes that are not UTF-8.
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_request', 'the parameters are not well-formed percent-encoded UTF-8');
    }
  }
  return new URLSearchParams(text);
}
