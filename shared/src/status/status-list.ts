/**
 * Reading a Token Status List (draft-ietf-oauth-status-list-21 §4.1): `lst` is the base64url of a
 * ZLIB (RFC 1950) stream; inflated, it holds `bits` bits per token, token `idx` in byte
 * `idx * bits / 8` counted from the least significant bit. Browser-safe: the inflating is Web
 * `DecompressionStream('deflate')` (which is the ZLIB format), in Node 20 and in browsers.
 */
import { base64url } from 'jose';

/** Status Type values (draft §7.1). Anything but VALID means the token must not be accepted. */
export const TOKEN_STATUS = {
  valid: 0x00,
  invalid: 0x01,
  suspended: 0x02,
} as const;

/** The bit sizes a list may use (§4.1). */
export const STATUS_LIST_BITS = [1, 2, 4, 8] as const;
export type StatusListBits = (typeof STATUS_LIST_BITS)[number];

/** The list could not be read: bad base64url, not a ZLIB stream, or larger than allowed. */
export class StatusListFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatusListFormatError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Inflates `lst` into the status byte array, giving up past `maxBytes`: a few kilobytes of ZLIB
 * can inflate to gigabytes, so output is read chunk by chunk and the stream cancelled as soon as
 * it grows past the bound.
 *
 * @example
 * ```ts
 * const bytes = await inflateStatusList('eNrbuRgAAhcBXQ', 1024); // Uint8Array [0xb9, 0xa3]
 * statusAt(bytes, 1, 0); // 1: INVALID
 * ```
 */
export async function inflateStatusList(lst: string, maxBytes: number): Promise<Uint8Array> {
  if (typeof lst !== 'string' || !BASE64URL.test(lst)) throw new StatusListFormatError('lst is not base64url');
  let compressed: Uint8Array;
  try {
    compressed = base64url.decode(lst);
  } catch (cause) {
    throw new StatusListFormatError('lst is not base64url', { cause });
  }
  const reader = new Blob([compressed as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'))
    .getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new StatusListFormatError(`the status list inflates to more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof StatusListFormatError) throw cause;
    throw new StatusListFormatError('lst is not a ZLIB stream', { cause });
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The status of token `idx` (§4.1), or undefined when the list has no such index (§8.3 step 6). */
export function statusAt(bytes: Uint8Array, bits: StatusListBits, idx: number): number | undefined {
  if (!Number.isSafeInteger(idx) || idx < 0) return undefined;
  const perByte = 8 / bits;
  const byte = bytes[Math.floor(idx / perByte)];
  if (byte === undefined) return undefined;
  return (byte >> ((idx % perByte) * bits)) & ((1 << bits) - 1);
}
