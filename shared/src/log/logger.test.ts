import { describe, expect, it } from 'vitest';
import { TokenVerificationError } from '../verify/errors.js';
import { describeError } from './logger.js';

describe('describeError', () => {
  it('gives name, code, message and cause of an error', () => {
    const error = new TokenVerificationError('ERR_JWKS_UNAVAILABLE', 'the issuer keys could not be located', {
      cause: new TypeError('fetch failed'),
    });
    expect(describeError(error)).toEqual({
      error: 'TokenVerificationError',
      code: 'ERR_JWKS_UNAVAILABLE',
      message: 'the issuer keys could not be located',
      cause: 'TypeError: fetch failed',
    });
  });

  it('gives a thrown non-error as text', () => {
    expect(describeError('boom')).toEqual({ error: 'boom' });
  });
});
