/**
 * The new-password policy (NIST SP 800-63B-4 §3.1.1.2): length in code points after NFKC, no
 * composition rules, the common-password list and the person's own words refused.
 */
import { hash } from '@node-rs/argon2';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2ID, type PasswordHasher } from '../src/crypto/passwords.js';
import { MAX_PASSWORD_LENGTH } from '../src/protocol/credentials.js';
import { MIN_PASSWORD_LENGTH, checkNewPassword } from '../src/protocol/password-policy.js';
import { registerUser } from '../src/protocol/registration.js';
import { browserFlow } from './support/browser.js';
import { registration, sql, useIssuer } from './support/fixture.js';

const ALICE = { email: 'Alice.Liddell@Example.com', displayName: 'Alice Liddell' };
const ruleOf = (password: string, context = ALICE) => checkNewPassword(password, context)?.rule;

describe('the new-password policy', () => {
  it('accepts a long passphrase with no digit, capital or symbol (no composition rules)', () => {
    expect(checkNewPassword('correct horse battery staple', ALICE)).toBeUndefined();
    expect(checkNewPassword('plum tractor violet ember', {})).toBeUndefined();
  });

  it('refuses fewer than 15 characters, with a reason a person can act on', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(15);
    const refusal = checkNewPassword('x7#kQ2!vL9@pz4', ALICE); // 14 random characters
    expect(refusal?.rule).toBe('too_short');
    expect(refusal?.reason).toMatch(/at least 15 characters/);
    expect(ruleOf('x7#kQ2!vL9@pz4w')).toBeUndefined(); // the 15th makes it
  });

  it('counts code points, not UTF-16 units: 14 emoji are 14 characters', () => {
    const emoji = '🐢🦀🐙🦑🐡🐠🐟🐬🐳🐋🦈🐊🦎🐍';
    expect(emoji.length).toBe(28);
    expect(ruleOf(emoji)).toBe('too_short');
    expect(ruleOf(`${emoji}🦕`)).toBeUndefined();
  });

  it('accepts a long Unicode passphrase in any script, and spaces', () => {
    expect(ruleOf('パスワードはとても長いですよね')).toBeUndefined();
    expect(ruleOf('Ελληνικά γράμματα εδώ')).toBeUndefined();
    expect(ruleOf('   many   spaces   between   ')).toBeUndefined();
  });

  it('counts after NFKC: a ligature that expands to two letters counts as two', () => {
    // U+FB01 "ﬁ" is "fi" under NFKC: 13 code points as typed, 15 as hashed.
    const typed = 'ﬁnd ﬁsh stock';
    expect([...typed].length).toBe(13);
    expect(ruleOf(typed)).toBeUndefined();
    // Combining accents: "é" as e + U+0301 is one code point after NFKC (precomposed).
    const decomposed = 'caf\u0065\u0301 caf\u0065\u0301 caf\u0065\u0301';
    expect([...decomposed].length).toBe(17);
    expect(ruleOf(decomposed)).toBe('too_short');
  });

  it('allows at least 64 characters and up to the sign-in bound, not beyond', () => {
    const sixtyFour = 'the pelican sat on a red buoy and watched the ferry go by at noon';
    expect([...sixtyFour].length).toBeGreaterThanOrEqual(64);
    expect(ruleOf(sixtyFour)).toBeUndefined();
    expect(ruleOf(`${'a quiet hill at dawn, '.repeat(3)}and then rain!!`)).toBeUndefined(); // 81
    const longest = Array.from({ length: MAX_PASSWORD_LENGTH }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90)));
    expect(ruleOf(longest.join(''))).toBeUndefined();
    expect(ruleOf(`${longest.join('')}x`)).toBe('too_long');
    // 600 astral code points are 1200 UTF-16 units: more than the sign-in reads, so refused.
    expect(ruleOf('🦕🦖'.repeat(300))).toBe('too_long');
  });

  it('refuses control characters, which no form or terminal types back', () => {
    expect(ruleOf('correct horse\tbattery staple')).toBe('not_printable');
    expect(ruleOf('correct horse\nbattery staple')).toBe('not_printable');
    expect(ruleOf('correct horse\u0000battery staple')).toBe('not_printable');
  });

  it('refuses a password from the common list, whatever its case', () => {
    expect(ruleOf('passwordpassword')).toBe('common');
    expect(ruleOf('PasswordPassword')).toBe('common');
    expect(ruleOf('1qaz2wsx3edc4rfv')).toBe('common');
    expect(checkNewPassword('1QAZ2WSX3EDC4RFV', ALICE)?.reason).toMatch(/too common/);
  });

  it('refuses full-width forms of a common password (NFKC before the list)', () => {
    expect(ruleOf('ｐａｓｓｗｏｒｄｐａｓｓｗｏｒｄ')).toBe('common');
  });

  it('refuses a common password with only digits and symbols around it', () => {
    expect(ruleOf('Password2024!!!!')).toBe('common');
    expect(ruleOf('!!!!dragon123456789')).toBe('common');
    expect(ruleOf('qwertyuiop123456789')).toBe('common');
    // Around it something no one guesses: the password is as strong as that part.
    expect(ruleOf('9274619ac8392047')).toBeUndefined();
  });

  it('refuses repetitions and runs', () => {
    expect(ruleOf('aaaaaaaaaaaaaaaa')).toBe('common');
    expect(ruleOf('abcabcabcabcabcabc')).toBe('common');
    expect(ruleOf('!!!!!!!!!!!!!!!!')).toBe('common');
    expect(ruleOf('123456789012345')).toBe('common');
    expect(ruleOf('zyxwvutsrqponmlk')).toBe('common');
  });

  it("refuses the person's email address, its local part and their name, in any case or spacing", () => {
    const refusal = checkNewPassword('alice.liddell@example.com', ALICE);
    expect(refusal?.rule).toBe('personal');
    expect(refusal?.reason).toMatch(/email address or your name/);
    expect(ruleOf('ALICE.LIDDELL@EXAMPLE.COM')).toBe('personal');
    expect(ruleOf('Alice Liddell 2024!')).toBe('personal');
    expect(ruleOf('alice_liddell_123')).toBe('personal');
    // The same password for someone else is not personal to them.
    expect(ruleOf('alice.liddell@example.com', { email: 'bob@example.com', displayName: 'Bob' })).toBeUndefined();
  });

  it("refuses the service's own name with guessable trimmings", () => {
    expect(ruleOf('Tessera123456789!')).toBe('personal');
    expect(ruleOf('tessera tessera tessera')).toBe('common');
  });

  it("refuses nothing for a short name that is a common word's part", () => {
    expect(ruleOf('al tried oak wood for the table', { email: 'al@example.com', displayName: 'Al' })).toBeUndefined();
  });

  it('answers inputs at the length limit built to make its patterns backtrack', () => {
    // Every pattern here is at worst quadratic in the length, which MAX_PASSWORD_LENGTH bounds; these
    // inputs are the worst shapes for them. Speed is a benchmark's business, the answers are this test's.
    expect(ruleOf(`${'a'.repeat(1023)}!`, ALICE)).toBe('common');
    expect(ruleOf(`a${'1'.repeat(1022)}b`, ALICE)).toBeUndefined();
    expect(ruleOf(`${'ab'.repeat(511)}ab`, ALICE)).toBe('common');
    expect(ruleOf(`${'ab'.repeat(511)}abc`, ALICE)).toBe('too_long');
    expect(ruleOf('1!'.repeat(512), ALICE)).toBe('common');
  });

  it('accepts the passwords the demo and the test fixtures set', () => {
    expect(ruleOf('tessera-demo-password', { email: 'alice@example.com', displayName: 'Alice Example' })).toBe(
      undefined,
    );
    expect(ruleOf('correct horse battery staple', { email: 'Alice@Example.com', displayName: 'Alice Liddell' })).toBe(
      undefined,
    );
  });
});

/** "ﬁsh" typed with the ligature U+FB01 and with two letters: the same password under NFKC. */
const LIGATURE = 'ﬁnd the ﬁsh stock';
const LETTERS = 'find the fish stock';

describe('passwords hashed and verified in NFKC form', () => {
  let hasher: PasswordHasher;
  beforeAll(async () => {
    hasher = await createPasswordHasher();
  });

  it('verifies a password typed in another compatibility form', async () => {
    const stored = await hasher.hash(LIGATURE);
    expect(await hasher.verify(stored, LETTERS)).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(stored, LIGATURE)).toEqual({ ok: true, needsRehash: false });
    expect((await hasher.verify(stored, 'find the fish stocks')).ok).toBe(false);
  });

  it('still verifies a hash made from the password as typed, and asks for it to be made again', async () => {
    const legacy = await hash(LIGATURE, { algorithm: 2, ...OWASP_ARGON2ID });
    expect(await hasher.verify(legacy, LIGATURE)).toEqual({ ok: true, needsRehash: true });
    // Only the form it was made from: the letters alone never matched it.
    expect((await hasher.verify(legacy, LETTERS)).ok).toBe(false);
  });
});

describe('signing in with a normalized password over HTTP', () => {
  const { idp, fx } = useIssuer();
  const client = () => ({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
  const storedHash = async (sub: string) =>
    (await sql(idp, 'select password_hash from users where id = ?', sub))[0]?.password_hash as string;

  it('signs in with the letters when the password was set with the ligature', async () => {
    await registerUser(registration(idp), { email: 'fish@example.com', displayName: 'Fish', password: LIGATURE });
    await browserFlow(idp.url, client(), { email: 'fish@example.com', password: LETTERS });
    await browserFlow(idp.url, client(), { email: 'fish@example.com', password: LIGATURE });
  });

  it("upgrades a hash made before normalization at the person's next sign-in", async () => {
    const { store, clock } = idp.issuer.ctx;
    const user = await store.users.create({
      sub: 'sub-legacy-ligature',
      email: 'legacy@example.com',
      displayName: 'Legacy',
      passwordHash: await hash(LIGATURE, { algorithm: 2, ...OWASP_ARGON2ID }),
      // Registered before sign-up existed: the migration marked such people verified.
      emailVerified: true,
      now: clock.now(),
    });
    await expect(browserFlow(idp.url, client(), { email: 'legacy@example.com', password: LETTERS })).rejects.toThrow(
      /401/,
    );
    await browserFlow(idp.url, client(), { email: 'legacy@example.com', password: LIGATURE });
    // Made again from the normalized form: now either way of typing it signs in.
    const upgraded = await storedHash(user.sub);
    expect(await (await createPasswordHasher()).verify(upgraded, LETTERS)).toEqual({ ok: true, needsRehash: false });
    await browserFlow(idp.url, client(), { email: 'legacy@example.com', password: LETTERS });
  });
});
