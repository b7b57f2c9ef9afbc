/**
 * compact-jws.ts decodes base64url by hand; jose's decoder (atob on Node) is the reference: on
 * every string of the alphabet both give the same bytes or both refuse.
 */
import fc from 'fast-check';
import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeBase64url } from './compact-jws.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const alphabetString = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 64 });

function joseDecode(text: string): Uint8Array | undefined {
  try {
    return base64url.decode(text);
  } catch {
    return undefined;
  }
}

describe('decodeBase64url', () => {
  it('gives the bytes jose gives, or refuses where jose refuses, on any string of the base64url alphabet', () => {
    fc.assert(
      fc.property(alphabetString, (text) => {
        const ours = decodeBase64url(text);
        const theirs = joseDecode(text);
        expect(ours === undefined ? undefined : [...ours]).toEqual(theirs === undefined ? undefined : [...theirs]);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back what jose encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        expect([...decodeBase64url(base64url.encode(bytes))!]).toEqual([...bytes]);
      }),
    );
  });

  it('refuses a lone final character (4n+1), padding, and anything outside the alphabet', () => {
    for (const text of ['A', 'AAAAA', 'AA==', 'AAA=', 'AA+A', 'AA/A', 'AA A', 'AA\nA', 'AAé', 'AA.A']) {
      expect(decodeBase64url(text)).toBeUndefined();
    }
    expect(decodeBase64url('')).toEqual(new Uint8Array(0));
  });
});
