/**
 * The JWS Compact Serialization (RFC 7515 §7.1) read by hand, for verifications whose signature
 * check is synchronous (`withNodeSignatures`): there jose's generic JWS layer, its atob-based
 * base64url and its JWT wrapper were most of what a verification cost beyond that check. Each
 * refusal is the jose error class jose throws for the same input, so verify-jwt.ts maps both
 * paths onto the same {@link TokenVerificationError} codes. Browser-safe: no Buffer, no node:
 * module.
 */
import { errors, type JWTHeaderParameters } from 'jose';

/** RFC 7515 §7.1: three base64url parts (RFC 7515 §2), the header and payload non-empty. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** RFC 4648 §5 (base64url): the value of each byte as a character, -1 outside the alphabet. */
const SEXTETS = new Int8Array(256).fill(-1);
for (const [value, char] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  SEXTETS[char.charCodeAt(0)] = value;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const ascii = new TextEncoder();

/**
 * Decodes the base64url text in `source[start, end)` into `target` from `at`; returns where the
 * bytes end, or -1 when the text is not base64url without padding (RFC 7515 §2: no "=", no line
 * breaks, nothing outside the alphabet). Bits past the last whole byte are ignored, as the atob
 * decoding jose uses on Node ignores them (WHATWG forgiving-base64). `target` may be `source`
 * from `at` ≥ `end`.
 */
function decodeBase64urlInto(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): number {
  // RFC 4648 §4: a final quantum of one character carries 6 bits, less than a byte: no encoding ends so.
  if ((end - start) % 4 === 1) return -1;
  let invalid = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const a = SEXTETS[source[i]!]!;
    const b = SEXTETS[source[i + 1]!]!;
    const c = SEXTETS[source[i + 2]!]!;
    const d = SEXTETS[source[i + 3]!]!;
    invalid |= a | b | c | d;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    target[at++] = bits >> 16;
    target[at++] = bits >> 8;
    target[at++] = bits;
  }
  if (end - i === 2) {
    const a = SEXTETS[source[i]!]!;
    const b = SEXTETS[source[i + 1]!]!;
    invalid |= a | b;
    target[at++] = (a << 2) | (b >> 4);
  } else if (end - i === 3) {
    const a = SEXTETS[source[i]!]!;
    const b = SEXTETS[source[i + 1]!]!;
    const c = SEXTETS[source[i + 2]!]!;
    invalid |= a | b | c;
    const bits = (a << 12) | (b << 6) | c;
    target[at++] = bits >> 10;
    target[at++] = bits >> 2;
  }
  // A character outside the alphabet made its sextet -1, and the OR of them negative.
  return invalid < 0 ? -1 : at;
}

/**
 * Where a token is read, reused: its ASCII bytes, then the part being decoded. Fresh arrays per
 * token would cost more than the decoding (an allocation outside the JS heap each). Filled and
 * used within one synchronous call — never across an `await`, where another token may be read.
 */
let scratch = new Uint8Array(4096);

/** The token's bytes (ASCII: it passed {@link COMPACT_JWS}) in the scratch buffer, with `room` after them. */
function tokenBytes(token: string, room: number): Uint8Array {
  if (scratch.length < token.length + room) scratch = new Uint8Array(token.length + room);
  ascii.encodeInto(token, scratch);
  return scratch;
}

/** Decodes base64url text as {@link parseCompactJws} does, or `undefined`. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  const source = ascii.encode(text);
  const bytes = new Uint8Array((text.length * 3) >> 2);
  return decodeBase64urlInto(source, 0, source.length, bytes, 0) < 0 ? undefined : bytes;
}

/** UTF-8 JSON (RFC 8259 §8.1) in base64url between `start` and `end` of `token`; throws on anything else. */
function decodeJson(token: string, start: number, end: number): unknown {
  const bytes = tokenBytes(token, ((end - start) * 3) >> 2);
  const decodedEnd = decodeBase64urlInto(bytes, start, end, bytes, token.length);
  if (decodedEnd < 0) throw new TypeError('not base64url');
  return JSON.parse(strictUtf8.decode(bytes.subarray(token.length, decodedEnd)));
}

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A compact JWS cut at its two dots; nothing decoded yet but the protected header. */
export interface CompactJws {
  readonly token: string;
  readonly header: JWTHeaderParameters;
  readonly firstDot: number;
  readonly secondDot: number;
  /** Whether the header was one remembered from a genuine token (see {@link rememberGenuineHeader}). */
  readonly headerKnown: boolean;
}

/**
 * Splits a compact JWS and decodes its protected header. Refused with `JWSInvalid`: anything but
 * three dot-separated parts (RFC 7515 §7.1; five would be a JWE, RFC 7516 §9), a character
 * outside base64url in any part (RFC 7515 §2), an empty header or payload (a detached or empty
 * payload is not a JWT, RFC 7519 §7.2 step 1 — an empty signature is left to the signature check,
 * which refuses it for what it is), a header that is not UTF-8 JSON or not an object (RFC 7515
 * §5.2 steps 2–4). A header member named twice keeps its last value, as JSON.parse does: RFC 7515
 * §4 lets a parser either refuse duplicates or use the lexically last one.
 */
export function parseCompactJws(token: string): CompactJws {
  // Every part checked before anything is decoded or any key looked up.
  if (!COMPACT_JWS.test(token)) throw new errors.JWSInvalid('not a compact JWS');
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const known = genuineHeaders.get(token.slice(0, firstDot));
  if (known !== undefined) return { token, header: { ...known }, firstDot, secondDot, headerKnown: true };
  let header: unknown;
  try {
    header = decodeJson(token, 0, firstDot);
  } catch (cause) {
    throw new errors.JWSInvalid('the protected header is invalid', { cause });
  }
  if (!isJsonObject(header)) throw new errors.JWSInvalid('the protected header is not an object');
  return { token, header: header as JWTHeaderParameters, firstDot, secondDot, headerKnown: false };
}

/**
 * Decoded protected headers of tokens whose signature passed, by their encoded form: an issuer
 * signs every token of a kind with one header, so decoding it once per key is enough. Only
 * genuine headers get in, so forged ones cannot crowd them out; the oldest leaves first. Entries
 * are frozen and each token gets a copy, so no caller can change what the next one reads.
 */
const genuineHeaders = new Map<string, Readonly<JWTHeaderParameters>>();
const GENUINE_HEADERS_KEPT = 32;

/**
 * Remembers the header of `jws`, whose signature has just been checked — unless a member is an
 * object or array, which a copy would share.
 */
export function rememberGenuineHeader({ token, header, firstDot, headerKnown }: CompactJws): void {
  const encoded = token.slice(0, firstDot);
  if (headerKnown || genuineHeaders.has(encoded)) return;
  for (const name in header) if (typeof header[name] === 'object' && header[name] !== null) return;
  if (genuineHeaders.size >= GENUINE_HEADERS_KEPT) genuineHeaders.delete(genuineHeaders.keys().next().value!);
  genuineHeaders.set(encoded, Object.freeze({ ...header }));
}

/**
 * Checks the signature of `jws` with `verify`, handing it views of the scratch buffer to use at
 * once: the signing input, ASCII (RFC 7515 §5.2 step 8), and the JWS Signature decoded from
 * base64url like the other parts (`JWSInvalid` if it is not).
 */
export function signatureHolds(
  { token, secondDot }: CompactJws,
  verify: (data: Uint8Array, signature: Uint8Array) => boolean,
): boolean {
  const bytes = tokenBytes(token, ((token.length - secondDot) * 3) >> 2);
  const end = decodeBase64urlInto(bytes, secondDot + 1, token.length, bytes, token.length);
  if (end < 0) throw new errors.JWSInvalid('the signature is not base64url');
  return verify(bytes.subarray(0, secondDot), bytes.subarray(token.length, end));
}

/**
 * The JWT Claims Set (RFC 7519 §7.2 steps 9–10): UTF-8 JSON, an object; else `JWTInvalid`.
 * Read only once the signature has passed.
 */
export function claimsSetOf({ token, firstDot, secondDot }: CompactJws): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = decodeJson(token, firstDot + 1, secondDot);
  } catch (cause) {
    throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object', { cause });
  }
  if (!isJsonObject(claims)) throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  return claims;
}
