/**
 * Step-up for a client (RFC 9470): read what a resource server's `insufficient_user_authentication`
 * challenge asks for, ask the issuer for it (`acr_values`, `max_age`), and check that the sign-in
 * that comes back meets it. Browser-safe.
 */
import { acrSatisfies } from '../authn/authentication-context.js';

/** What a resource server needs of the sign-in (RFC 9470 §3). */
export interface StepUpChallenge {
  /** The classes it accepts, in its order of preference; empty when it named none. */
  acrValues: string[];
  /** How recent the sign-in must be, in seconds, when it said. */
  maxAgeSec?: number;
  /** The resource server's `error_description`: its text, not ours, so escape it before showing it. */
  description?: string;
}

// RFC 9110 §5.6.2 token, §5.6.4 quoted-string (with quoted-pair), §5.6.3 OWS.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"';
const AUTH_PARAM = new RegExp(`^[ \\t]*(${TOKEN})[ \\t]*=[ \\t]*(${TOKEN}|${QUOTED})[ \\t]*(?:,|$)`);
const SCHEME = new RegExp(`^[ \\t,]*(${TOKEN})(?:[ \\t]+|[ \\t]*(?:,|$))`);
/** Largest header read: a challenge is a few hundred bytes; more is not a resource server's answer. */
const MAX_HEADER_LENGTH = 8 * 1024;

/** The auth-params of every challenge in a `WWW-Authenticate` value (RFC 9110 §11.6.1), scheme lower-cased. */
function challenges(header: string): { scheme: string; params: Map<string, string> }[] {
  const found: { scheme: string; params: Map<string, string> }[] = [];
  let rest = header;
  while (rest.trim() !== '') {
    const scheme = SCHEME.exec(rest);
    if (scheme === null) return found; // not a challenge list: what was read so far stands
    rest = rest.slice(scheme[0].length);
    const params = new Map<string, string>();
    for (let param = AUTH_PARAM.exec(rest); param !== null; param = AUTH_PARAM.exec(rest)) {
      const [whole, rawName = '', rawValue = ''] = param;
      const value = rawValue.startsWith('"') ? rawValue.slice(1, -1).replace(/\\(.)/g, '$1') : rawValue;
      const name = rawName.toLowerCase();
      // RFC 9110 §11.2: each parameter name once per challenge; a repeated one makes it unusable.
      if (params.has(name)) return found;
      params.set(name, value);
      rest = rest.slice(whole.length);
    }
    found.push({ scheme: scheme[1]?.toLowerCase() ?? '', params });
  }
  return found;
}

/**
 * The step-up a resource server asks for in its `WWW-Authenticate` header, or undefined when the
 * header holds no Bearer (or DPoP) challenge with `error="insufficient_user_authentication"` (RFC 9470 §3).
 * The header is the other party's: anything malformed is read as no step-up, never thrown.
 *
 * @example
 * ```ts
 * const challenge = parseStepUpChallenge(response.headers.get('www-authenticate'));
 * if (challenge) redirectTo(await createAuthorizationRequest({ ...options, ...stepUpRequestOptions(challenge) }));
 * ```
 */
export function parseStepUpChallenge(header: string | null | undefined): StepUpChallenge | undefined {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return undefined;
  // RFC 9470 §3 uses Bearer; a DPoP-bound token's resource answers with the same params (RFC 9449 §7.1).
  const bearer = challenges(header).find(
    (c) =>
      (c.scheme === 'bearer' || c.scheme === 'dpop') && c.params.get('error') === 'insufficient_user_authentication',
  );
  if (bearer === undefined) return undefined;
  const acrValues = (bearer.params.get('acr_values') ?? '').split(' ').filter((v) => v !== '');
  const maxAge = bearer.params.get('max_age');
  // OIDC Core §3.1.2.1: max_age is a non-negative integer number of seconds; anything else is ignored.
  const maxAgeSec = maxAge !== undefined && /^\d{1,9}$/.test(maxAge) ? Number(maxAge) : undefined;
  const description = bearer.params.get('error_description');
  return {
    acrValues,
    ...(maxAgeSec === undefined ? {} : { maxAgeSec }),
    ...(description === undefined ? {} : { description }),
  };
}

/**
 * The authorization request parameters that answer a challenge (RFC 9470 §4): spread them into
 * `createAuthorizationRequest`'s options, and verify the ID token with the same `maxAgeSec` and
 * {@link acrMeetsRequest}.
 */
export function stepUpRequestOptions(challenge: StepUpChallenge): { acrValues?: string[]; maxAgeSec?: number } {
  return {
    ...(challenge.acrValues.length === 0 ? {} : { acrValues: challenge.acrValues }),
    ...(challenge.maxAgeSec === undefined ? {} : { maxAgeSec: challenge.maxAgeSec }),
  };
}

/**
 * Whether the `acr` an ID token states meets the `acr_values` the client asked for: one of them,
 * or a class Tessera ranks stronger. A client that asked checks what it got (OIDC Core §3.1.2.1:
 * the issuer may satisfy `acr_values` only as a voluntary claim, so a weaker sign-in can come back).
 * Nothing asked, nothing to check.
 */
export function acrMeetsRequest(acr: unknown, acrValues: readonly string[]): boolean {
  if (acrValues.length === 0) return true;
  if (typeof acr !== 'string') return false;
  return acrValues.some((requested) => acr === requested || acrSatisfies(acr, requested));
}
