/**
 * Reading OAuth parameters from a query string or an urlencoded body, with the limits every
 * endpoint shares. RFC 6749 §3.1: a parameter MUST NOT be included more than once.
 */
import { OAuthError } from '@tessera/shared';

export const LIMITS = {
  /** Longest value of any one parameter. */
  valueLength: 4096,
  /** Most parameters in one request. */
  count: 64,
  /** Largest urlencoded body, in bytes. */
  bodyBytes: 64 * 1024,
} as const;

/** Parameters with each name at most once; `duplicates` lists names that were repeated. */
export interface Params {
  get(name: string): string | undefined;
  has(name: string): boolean;
  duplicates: string[];
  names: string[];
}

/** Parses and limits; throws invalid_request for too many or too long parameters. */
export function readParams(search: URLSearchParams): Params {
  const values = new Map<string, string>();
  const duplicates = new Set<string>();
  let count = 0;
  for (const [name, value] of search) {
    if (++count > LIMITS.count) throw new OAuthError('invalid_request', 'too many parameters');
    if (value.length > LIMITS.valueLength || name.length > 128)
      throw new OAuthError('invalid_request', `parameter ${name.slice(0, 64)} is too long`);
    // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    if (value === '') continue;
    if (values.has(name)) duplicates.add(name);
    else values.set(name, value);
  }
  return {
    get: (name) => (duplicates.has(name) ? undefined : values.get(name)),
    has: (name) => values.has(name),
    duplicates: [...duplicates],
    names: [...values.keys()],
  };
}

/** Refuses any repeated parameter (RFC 6749 §3.1). */
export function refuseDuplicates(params: Params): void {
  if (params.duplicates.length > 0)
    throw new OAuthError('invalid_request', `parameter ${params.duplicates[0]} is included more than once`);
}
