/**
 * Strict reading of application/x-www-form-urlencoded text (query strings and form bodies), with
 * the limits every request of app A meets. URLSearchParams repairs bad input without a word — a
 * stray `%` stays, bytes that are not UTF-8 become U+FFFD — so here such input is refused instead
 * (WHATWG URL §5.1 on what is well-formed; OWASP ASVS V5.1).
 */

export const LIMITS = {
  /** Most parameters in one query string or form. */
  count: 64,
  /** Longest name or value of one parameter (an authorization code or a logout token fits easily). */
  valueLength: 4096,
} as const;

/** Input that is not well-formed: answered 400 invalid_request by the root handler, never a 500. */
export class MalformedRequestError extends Error {
  readonly error = 'invalid_request';
  constructor(
    readonly description: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(description);
    this.name = 'MalformedRequestError';
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Parses `input` (text, or the raw bytes of a body) after checking its encoding and limits. */
export function parseUrlencoded(input: string | Uint8Array): URLSearchParams {
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
    if (pair === '') continue;
    if (++count > LIMITS.count) throw new MalformedRequestError('too many parameters');
    // decodeURIComponent throws on a `%` without two hex digits and on bytes that are not UTF-8.
    try {
      decodeURIComponent(pair.replace(/\+/g, ' '));
    } catch {
      throw new MalformedRequestError('the parameters are not well-formed percent-encoded UTF-8');
    }
  }
  const params = new URLSearchParams(text);
  for (const [name, value] of params) {
    if (name.length > LIMITS.valueLength || value.length > LIMITS.valueLength) throw new MalformedRequestError('a parameter is too long');
  }
  return params;
}

/** Refuses a parameter sent more than once (RFC 6749 §3.1, applied to our own forms too). */
export function refuseDuplicates(params: URLSearchParams): URLSearchParams {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) throw new MalformedRequestError('a parameter is included more than once');
    seen.add(name);
  }
  return params;
}
