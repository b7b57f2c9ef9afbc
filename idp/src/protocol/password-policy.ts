/**
 * What a new password must be, wherever a person or an operator sets one (the CLI, the demo seed,
 * the account page, sign-up, a reset): NIST SP 800-63B-4 §3.1.1.2. Not applied at sign-in, so a
 * password set before this policy keeps working.
 *
 * - At least 15 characters. §3.1.1.2 allows 8 only for a password used as part of multi-factor
 *   authentication; here a password may always be the only factor (a second factor is optional,
 *   and a person may remove theirs later without choosing a new password), so 15 throughout.
 * - Up to MAX_PASSWORD_LENGTH (far above the 64 §3.1.1.2 asks to allow); all printing characters,
 *   spaces and any Unicode letter allowed; no composition rules ("one digit, one symbol…").
 * - Not on a list of common passwords (the zxcvbn-ts list, ~49,000 entries), not one of those
 *   with only digits or symbols around it, not a run or a repetition, and not the person's own
 *   email address or name, nor the service's name (§3.1.1.2: "context-specific words").
 * - Counted in Unicode code points after NFKC normalization, the form the hasher stores and
 *   verifies (crypto/passwords.ts), so what is counted here is what is hashed.
 */
import { createRequire } from 'node:module';
import { normalizePassword } from '../crypto/passwords.js';
import { MAX_PASSWORD_LENGTH } from './credentials.js';

/** NIST SP 800-63B-4 §3.1.1.2: the minimum for a password that may be the only factor. */
export const MIN_PASSWORD_LENGTH = 15;

/** Which rule refused a password: for tests and the audit trail; people read `reason`. */
export type PasswordRule = 'too_short' | 'too_long' | 'not_printable' | 'common' | 'personal';

export interface PasswordRefusal {
  rule: PasswordRule;
  /** A sentence for the person choosing the password: what is wrong and what to do instead. */
  reason: string;
}

/** Who the password is for: their own address and name are the first words an attacker tries. */
export interface PasswordContext {
  email?: string | undefined;
  displayName?: string | undefined;
}

/** The service's own name is a context-specific word (§3.1.1.2) for every account. */
const SERVICE_WORDS = ['tessera'];

/** Control characters (C0, DEL, C1): a form or a terminal cannot reliably type them back. */
const CONTROL = /\p{Cc}/u;

const REFUSALS: Record<PasswordRule, string> = {
  too_short:
    `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters. ` +
    'A few unrelated words make a long password that is easy to remember.',
  too_long: `Choose a password of at most ${MAX_PASSWORD_LENGTH} characters.`,
  not_printable: 'A password cannot contain line breaks, tabs or other control characters.',
  common: 'That password is too common or too easy to guess. Choose another one, for instance a few unrelated words.',
  personal: 'A password cannot be your email address or your name. Choose something an attacker would not guess.',
};

const refuse = (rule: PasswordRule): PasswordRefusal => ({ rule, reason: REFUSALS[rule] });

/** Case and compatibility forms folded: what the common-password list is compared in. */
const fold = (text: string): string => normalizePassword(text).toLowerCase();

/** Letters and digits only: "Pass word!" and "password" are the same guess. */
const compact = (text: string): string => fold(text).replace(/[^\p{L}\p{N}]/gu, '');

let commonPasswords: Set<string> | undefined;

/**
 * The common-password list, folded, loaded on first use: about 260 ms and 4 MB of heap once per
 * process (measured: docs/architecture.md, "Password policy"), paid by the first new password and
 * never by an issuer that sets none.
 */
function commonList(): Set<string> {
  if (!commonPasswords) {
    // Loaded synchronously so the check stays a plain function; the package ships CommonJS too.
    const require = createRequire(import.meta.url);
    const { dictionary } = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    commonPasswords = new Set(dictionary['passwords-common'].map(fold));
  }
  return commonPasswords;
}

/** "aaaaaaaaaaaaaaa", "abcabcabcabcabc", "passwordpassword": one piece repeated. */
const isRepetition = (text: string): boolean => /^(.+?)\1+$/su.test(text);

/** "123456789012345", "zyxwvutsrqponml": each character the one after (or before) the last. */
function isRun(text: string): boolean {
  const points = [...text].map((ch) => ch.codePointAt(0)!);
  if (points.length < 2) return false;
  const step = points[1]! - points[0]!;
  if (step !== 1 && step !== -1) return false;
  // Digits wrap around ("…7890123…"), as on a keyboard's top row.
  const follows = (a: number, b: number) =>
    b - a === step || (step === 1 && a === 0x39 && b === 0x30) || (step === -1 && a === 0x30 && b === 0x39);
  return points.every((p, i) => i === 0 || follows(points[i - 1]!, p));
}

/** A piece an attacker adds to a word as a matter of course: short, common, a run or a repetition. */
const isGuessablePiece = (text: string, list: Set<string>): boolean =>
  [...text].length <= 4 || list.has(text) || isRepetition(text) || isRun(text);

/** "2024!!!!" around a word: each stretch of digits and of symbols is guessable on its own. */
const isGuessableAffix = (text: string, list: Set<string>): boolean =>
  (text.match(/\p{N}+|[^\p{N}]+/gu) ?? []).every((piece) => isGuessablePiece(piece, list));

/**
 * The guesses a password amounts to: itself folded, its letters and digits alone, and the word
 * inside when what surrounds it is guessable ("Password2024!" is "password").
 */
function guessesOf(password: string, list: Set<string>): string[] {
  const folded = fold(password);
  const guesses = [folded, compact(folded)];
  const [, prefix = '', word = '', suffix = ''] = /^([^\p{L}]*)(.*?)([^\p{L}]*)$/su.exec(folded) ?? [];
  if (word && isGuessableAffix(prefix, list) && isGuessableAffix(suffix, list)) guesses.push(word, compact(word));
  return guesses;
}

/** The person's own words: the address, its local part, the name, each as letters and digits alone. */
function personalWords(context: PasswordContext): Set<string> {
  const email = context.email?.trim() ?? '';
  const words = [email, email.split('@')[0] ?? '', context.displayName ?? '', ...SERVICE_WORDS];
  // A very short name ("Al") would refuse too much, and is little of a guess on its own.
  return new Set(words.map(compact).filter((w) => w.length >= 3));
}

/**
 * Undefined when `password` may be set as a new password for the person `context` describes;
 * otherwise which rule refused it and why, in words for that person.
 */
export function checkNewPassword(password: string, context: PasswordContext = {}): PasswordRefusal | undefined {
  // The sign-in accepts at most MAX_PASSWORD_LENGTH UTF-16 units as typed (credentials.ts): a
  // longer one could be set but never used.
  if (password.length > MAX_PASSWORD_LENGTH) return refuse('too_long');
  if (CONTROL.test(password)) return refuse('not_printable');
  // §3.1.1.2: each Unicode code point counts as one character.
  const length = [...normalizePassword(password)].length;
  if (length > MAX_PASSWORD_LENGTH) return refuse('too_long');
  if (length < MIN_PASSWORD_LENGTH) return refuse('too_short');
  const list = commonList();
  const guesses = guessesOf(password, list);
  const personal = personalWords(context);
  if (guesses.some((g) => personal.has(compact(g)))) return refuse('personal');
  if (guesses.some((g) => list.has(g) || isRepetition(g) || isRun(g))) return refuse('common');
  return undefined;
}
