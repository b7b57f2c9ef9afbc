/**
 * The Status List byte array and its `lst` encoding (draft-ietf-oauth-status-list-21 §4.1):
 * `bits` bits per token, token `idx` in byte `idx * bits / 8`, counted from the least significant
 * bit; the array DEFLATE-compressed in the ZLIB format (RFC 1950) and base64url-encoded.
 */
import { constants, deflateSync } from 'node:zlib';

/** Bits per status an access token list uses: VALID or INVALID is all it needs to say. */
export const STATUS_BITS = 1;

/** Status Type value (draft §7.1) of a revoked token; a bit left at 0 is VALID (0x00). */
export const STATUS_INVALID = 0x01;

/** Bytes needed for `size` statuses of `bits` bits. */
export const byteLength = (size: number, bits: number): number => Math.ceil((size * bits) / 8);

/** Sets the status of token `idx` to `value` in place. */
export function setStatus(bytes: Uint8Array, bits: number, idx: number, value: number): void {
  const perByte = 8 / bits;
  const byte = Math.floor(idx / perByte);
  if (!Number.isInteger(idx) || idx < 0 || byte >= bytes.length)
    throw new RangeError(`index ${idx} is outside the status list`);
  const shift = (idx % perByte) * bits;
  const mask = ((1 << bits) - 1) << shift;
  bytes[byte] = (bytes[byte]! & ~mask) | ((value << shift) & mask);
}

/** The `lst` value: ZLIB at the highest level, which the draft recommends (§4.1), then base64url. */
export function encodeStatusList(bytes: Uint8Array): string {
  return deflateSync(bytes, { level: constants.Z_BEST_COMPRESSION }).toString('base64url');
}
