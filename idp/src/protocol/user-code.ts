/**
 * User codes of the device authorization grant (RFC 8628 §6.1): 8 characters of a base-20
 * alphabet with no vowels (no words by accident) and no look-alikes, shown as XXXX-XXXX. That is
 * 20^8 ≈ 2.6 × 10^10 codes, about 34.6 bits: guessing one is kept infeasible within a code's
 * lifetime by the throttle on entering codes (device-approval.ts).
 */
import { randomInt } from 'node:crypto';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

/** A new user code, normalized (no dash): each character drawn uniformly from the alphabet. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** XXXX-XXXX, as people read and type it. */
export const displayUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/**
 * What a person typed, as stored: case and dashes or spaces ignored (§6.1); undefined when it
 * cannot be a user code at all (such input is not worth a lookup, nor a throttle count).
 */
export function normalizeUserCode(input: string): string | undefined {
  if (input.length > 32) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  return new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`).test(code) ? code : undefined;
}
