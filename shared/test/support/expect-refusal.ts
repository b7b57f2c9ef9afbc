import { expect } from 'vitest';
import { TokenVerificationError, type TokenVerificationErrorCode } from '../../src/verify/errors.js';

/** Asserts `promise` rejects with a TokenVerificationError of exactly `code`. */
export async function expectRefusal(
  promise: Promise<unknown>,
  code: TokenVerificationErrorCode,
): Promise<TokenVerificationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenVerificationError);
  expect((error as TokenVerificationError).code).toBe(code);
  return error as TokenVerificationError;
}
