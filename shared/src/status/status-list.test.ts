/** Reading Token Status Lists (draft-ietf-oauth-status-list-21 §4.1), against the draft's own examples. */
import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StatusListFormatError, inflateStatusList, statusAt } from './status-list.js';

// §4.1: sixteen 1-bit statuses, packed least significant bit first into 0xB9 0xA3.
const DRAFT_1BIT = {
  lst: 'eNrbuRgAAhcBXQ',
  bytes: [0xb9, 0xa3],
  statuses: [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1],
};
// §4.1: twelve 2-bit statuses, packed into 0xC9 0x44 0xF9.
const DRAFT_2BIT = {
  lst: 'eNo76fITAAPfAgc',
  bytes: [0xc9, 0x44, 0xf9],
  statuses: [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3],
};

describe('inflateStatusList and statusAt', () => {
  it("decode the draft's 1-bit example to its bytes and statuses", async () => {
    const bytes = await inflateStatusList(DRAFT_1BIT.lst, 1024);
    expect([...bytes]).toEqual(DRAFT_1BIT.bytes);
    expect(DRAFT_1BIT.statuses.map((_, i) => statusAt(bytes, 1, i))).toEqual(DRAFT_1BIT.statuses);
  });

  it("decode the draft's 2-bit example to its bytes and statuses", async () => {
    const bytes = await inflateStatusList(DRAFT_2BIT.lst, 1024);
    expect([...bytes]).toEqual(DRAFT_2BIT.bytes);
    expect(DRAFT_2BIT.statuses.map((_, i) => statusAt(bytes, 2, i))).toEqual(DRAFT_2BIT.statuses);
  });

  it('read 4-bit and 8-bit entries from the low half of a byte up', () => {
    const bytes = Uint8Array.from([0x21, 0x07]);
    expect([0, 1, 2, 3].map((i) => statusAt(bytes, 4, i))).toEqual([1, 2, 7, 0]);
    expect([0, 1].map((i) => statusAt(bytes, 8, i))).toEqual([0x21, 0x07]);
  });

  it('has no status past the end of the list, nor at a negative or fractional index', () => {
    const bytes = Uint8Array.from(DRAFT_1BIT.bytes);
    expect(statusAt(bytes, 1, 15)).toBe(1);
    for (const idx of [16, -1, 1.5, Number.NaN]) expect(statusAt(bytes, 1, idx)).toBeUndefined();
  });

  it('gives up on a ZLIB bomb as soon as it inflates past the bound', async () => {
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString('base64url');
    expect(bomb.length).toBeLessThan(100_000);
    await expect(inflateStatusList(bomb, 1024 * 1024)).rejects.toThrow(StatusListFormatError);
  });

  it('refuses non-base64url, a raw DEFLATE stream without the ZLIB wrapper, and a truncated stream', async () => {
    const raw = deflateRawSync(Buffer.from([0xb9, 0xa3])).toString('base64url');
    const truncated = deflateSync(Buffer.alloc(4096, 7)).subarray(0, 8).toString('base64url');
    for (const lst of ['eNrb+RgAAhcBXQ==', raw, truncated, Buffer.from('not zlib').toString('base64url')]) {
      await expect(inflateStatusList(lst, 1024 * 1024)).rejects.toThrow(StatusListFormatError);
    }
  });
});
