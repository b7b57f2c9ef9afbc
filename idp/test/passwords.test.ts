/**
 * Password hashes: argon2id at the OWASP parameters; a hash made with other parameters still
 * verifies and is upgraded at the next successful sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hash } from '@node-rs/argon2';
import { createPasswordHasher, OWASP_ARGON2ID, type PasswordHasher } from '../src/crypto/passwords.js';
import { PASSWORD, seed, sql, startIssuer, type RunningIssuer } from './support/fixture.js';
import { browserFlow } from './support/browser.js';

const OWASP_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;
const WEAKER = { memoryCost: 4096, timeCost: 1, parallelism: 1 };

let hasher: PasswordHasher;
let weakHasher: PasswordHasher;

beforeAll(async () => {
  [hasher, weakHasher] = await Promise.all([createPasswordHasher(OWASP_ARGON2ID), createPasswordHasher(WEAKER)]);
});

describe('the password hasher', () => {
  it('hashes with argon2id at the OWASP parameters', async () => {
    const stored = await hasher.hash(PASSWORD);
    expect(stored).toMatch(OWASP_PHC);
    expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: true, needsRehash: false });
  });

  it('salts every hash', async () => {
    expect(await hasher.hash(PASSWORD)).not.toBe(await hasher.hash(PASSWORD));
  });

  it('verifies a hash made with other parameters and reports needsRehash', async () => {
    const stored = await weakHasher.hash(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: true, needsRehash: true });
  });

  it('reports needsRehash for an argon2i hash', async () => {
    const stored = await hash(PASSWORD, { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(stored.startsWith('$argon2i$')).toBe(true);
    expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: true, needsRehash: true });
  });

  it('refuses a wrong password', async () => {
    expect((await hasher.verify(await weakHasher.hash(PASSWORD), 'wrong password')).ok).toBe(false);
  });

  it('answers a malformed stored hash with ok=false rather than throwing', async () => {
    expect((await hasher.verify('not-a-phc-string', PASSWORD)).ok).toBe(false);
  });
});

describe('rehashing at sign-in', () => {
  let idp: RunningIssuer;
  let fx: Awaited<ReturnType<typeof seed>>;
  const storedHash = async (sub: string) =>
    (await sql(idp, 'select password_hash from users where id = ?', sub))[0]?.password_hash as string;

  beforeAll(async () => {
    idp = await startIssuer();
    fx = await seed(idp);
  });
  afterAll(() => idp.cleanup());

  async function userWithWeakHash(email: string) {
    const { store, clock } = idp.issuer.ctx;
    return store.users.create({
      sub: `sub-${email}`,
      email,
      displayName: 'Old Hash',
      passwordHash: await weakHasher.hash(PASSWORD),
      // Registered before sign-up existed: the migration marked such people verified.
      emailVerified: true,
      now: clock.now(),
    });
  }

  it('upgrades a hash made with other parameters to the OWASP parameters after a successful sign-in', async () => {
    const user = await userWithWeakHash('old@example.com');
    expect(await storedHash(user.sub)).not.toMatch(OWASP_PHC);
    await browserFlow(
      idp.url,
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
      { email: 'old@example.com' },
    );
    const upgraded = await storedHash(user.sub);
    expect(upgraded).toMatch(OWASP_PHC);
    expect(await hasher.verify(upgraded, PASSWORD)).toEqual({ ok: true, needsRehash: false });
    // The upgraded hash still lets the person in.
    await browserFlow(
      idp.url,
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
      { email: 'old@example.com' },
    );
  });

  it('leaves the hash alone after a failed sign-in', async () => {
    const user = await userWithWeakHash('old2@example.com');
    const before = await storedHash(user.sub);
    await expect(
      browserFlow(
        idp.url,
        { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
        { email: 'old2@example.com', password: 'wrong password' },
      ),
    ).rejects.toThrow(/401/);
    expect(await storedHash(user.sub)).toBe(before);
  });
});
