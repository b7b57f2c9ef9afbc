import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from './malformed-request-error.js';
import { URLENCODED_LIMITS, parseUrlencoded } from './urlencoded.js';

/** The MalformedRequestError `run` throws (or undefined when it does not). */
function refusal(run: () => unknown): MalformedRequestError | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedRequestError);
    return error as MalformedRequestError;
  }
  return undefined;
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe('parseUrlencoded', () => {
  it('reads well-formed text and bytes as URLSearchParams does', () => {
    expect(parseUrlencoded('a=1&b=x+y&c=%C3%A9').get('b')).toBe('x y');
    expect(parseUrlencoded(new TextEncoder().encode('c=%C3%A9')).get('c')).toBe('é');
  });

  it('refuses a body that is not UTF-8', () => {
    expect(refusal(() => parseUrlencoded(bytes(0x61, 0x3d, 0xff)))?.description).toBe(
      'the request body is not valid UTF-8',
    );
  });

  it.each(['a=%zz', 'a=%', 'a=%C3', 'a=%ff'])('refuses the malformed percent-encoding %s', (input) => {
    const error = refusal(() => parseUrlencoded(input));
    expect(error?.description).toBe('the parameters are not well-formed percent-encoded UTF-8');
    expect(error?.status).toBe(400);
    expect(error?.error).toBe('invalid_request');
  });

  it('refuses one parameter more than the count limit, not counting empty pairs', () => {
    const atLimit = Array.from({ length: URLENCODED_LIMITS.count }, (_, i) => `p${i}=v`).join('&');
    expect(parseUrlencoded(`${atLimit}&&`).size).toBe(URLENCODED_LIMITS.count);
    expect(refusal(() => parseUrlencoded(`${atLimit}&one=more`))?.description).toBe('too many parameters');
  });

  it('refuses a name or value over the length limit', () => {
    const long = 'x'.repeat(URLENCODED_LIMITS.valueLength + 1);
    expect(refusal(() => parseUrlencoded(`a=${long}`))?.description).toBe('a parameter is too long');
    expect(refusal(() => parseUrlencoded(`${long}=a`))?.description).toBe('a parameter is too long');
  });

  it('applies given limits, or none with limits: false', () => {
    expect(refusal(() => parseUrlencoded('a=1&b=2', { limits: { count: 1, valueLength: 10 } }))?.description).toBe(
      'too many parameters',
    );
    const many = Array.from({ length: 100 }, (_, i) => `p${i}=${'v'.repeat(5000)}`).join('&');
    expect(parseUrlencoded(many, { limits: false }).size).toBe(100);
    expect(refusal(() => parseUrlencoded(`${many}&bad=%zz`, { limits: false }))?.description).toBe(
      'the parameters are not well-formed percent-encoded UTF-8',
    );
  });
});
