/**
 * Strict reading of application/x-www-form-urlencoded text (query strings and form bodies).
 * URLSearchParams repairs bad input without a word — a stray `%` stays as it is, bytes that are
 * not UTF-8 become U+FFFD — so a parameter could differ from what the client sent. Here such input
 * is refused instead (WHATWG URL §5.1 on what is well-formed; OWASP ASVS V5.1). Browser-safe.
 */
import { MalformedRequestError } from './malformed-request-error.js';

/** How many parameters, and how long each, a strictly read form may have. */
export interface UrlencodedLimits {
  /** Most parameters in one query string or form (empty `&&` pairs are not counted). */
  count: number;
  /** Longest name or value of one parameter, in UTF-16 code units. */
  valueLength: number;
}

/** The default limits: an authorization code or a logout token fits easily. */
export const URLENCODED_LIMITS: Readonly<UrlencodedLimits> = Object.freeze({ count: 64, valueLength: 4096 });

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses `input` (text, or the raw bytes of a body) after checking that it is well-formed
 * percent-encoded UTF-8 within `limits` (URLENCODED_LIMITS by default; `false` for a caller that
 * applies its own). Throws MalformedRequestError.
 *
 * @example
 * ```ts
 * const form = parseUrlencoded(new Uint8Array(await request.arrayBuffer()));
 * const token = form.get('logout_token');
 * ```
 */
export function parseUrlencoded(
  input: string | Uint8Array,
  options: { limits?: Readonly<UrlencodedLimits> | false } = {},
): URLSearchParams {
  const { limits = URLENCODED_LIMITS } = options;
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = UTF8.decode(input);
    } catch {
      throw new MalformedRequestError('the request body is not valid UTF-8');
    }
  }
  let count = 0;
  for (const pair of text.split('&')) {
    if (limits) {
      if (pair === '') continue;
      if (++count > limits.count) throw new MalformedRequestError('too many parameters');
    }
    // decodeURIComponent throws on a `%` without two hex digits and on bytes that are not UTF-8.
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw new MalformedRequestError('the parameters are not well-formed percent-encoded UTF-8');
    }
  }
  const params = new URLSearchParams(text);
  if (limits) {
    for (const [name, value] of params) {
      if (name.length > limits.valueLength || value.length > limits.valueLength)
        throw new MalformedRequestError('a parameter is too long');
    }
  }
  return params;
}
