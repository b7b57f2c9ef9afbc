/** The issuer's Status List encoding against draft-ietf-oauth-status-list-21 §4.1's own examples. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateStatusList, statusAt } from '@tessera/shared';
import { byteLength, encodeStatusList, setStatus } from '../src/status-list/bit-array.js';

const DRAFT = {
  1: { statuses: [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1], bytes: [0xb9, 0xa3], lst: 'eNrbuRgAAhcBXQ' },
  2: { statuses: [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3], bytes: [0xc9, 0x44, 0xf9], lst: 'eNo76fITAAPfAgc' },
} as const;

const pack = (statuses: readonly number[], bits: 1 | 2) => {
  const bytes = new Uint8Array(byteLength(statuses.length, bits));
  statuses.forEach((value, idx) => {
    setStatus(bytes, bits, idx, value);
  });
  return bytes;
};

describe('status list encoding', () => {
  it.each([1, 2] as const)("packs the draft's %i-bit statuses into its bytes and encodes them as its lst", (bits) => {
    const bytes = pack(DRAFT[bits].statuses, bits);
    expect([...bytes]).toEqual(DRAFT[bits].bytes);
    // ZLIB at level 9, as the draft's examples were made: the very same lst.
    expect(encodeStatusList(bytes)).toBe(DRAFT[bits].lst);
    expect([...inflateSync(Buffer.from(encodeStatusList(bytes), 'base64url'))]).toEqual(DRAFT[bits].bytes);
  });

  it.each([1, 2] as const)("decodes the draft's %i-bit lst to its statuses with the shared reader", async (bits) => {
    const bytes = await inflateStatusList(DRAFT[bits].lst, 1024);
    expect(DRAFT[bits].statuses.map((_, idx) => statusAt(bytes, bits, idx))).toEqual(DRAFT[bits].statuses);
  });

  it('keeps a 2^20-entry list with a thousand revocations to a few kilobytes, and round-trips it', async () => {
    const size = 2 ** 20;
    const bytes = new Uint8Array(byteLength(size, 1));
    const revoked = Array.from({ length: 1000 }, (_, i) => (i * 7919 * 131) % size);
    for (const idx of revoked) setStatus(bytes, 1, idx, 1);
    const lst = encodeStatusList(bytes);
    expect(lst.length).toBeLessThan(8 * 1024);
    const decoded = await inflateStatusList(lst, 1024 * 1024);
    expect(decoded.length).toBe(128 * 1024);
    expect(revoked.every((idx) => statusAt(decoded, 1, idx) === 1)).toBe(true);
    expect(statusAt(decoded, 1, 1)).toBe(0);
  });

  it('refuses to set an index outside the list', () => {
    expect(() => setStatus(new Uint8Array(2), 1, 16, 1)).toThrow(RangeError);
    expect(() => setStatus(new Uint8Array(2), 1, -1, 1)).toThrow(RangeError);
  });
});
