/**
 * Password sign-ins at the issuer (GET the form, POST the credentials, session created), in
 * process, against the raw argon2id verification rate at the same parameters on the same
 * machine. The goal (docs/architecture.md, "Performance goals"): ≥ 0.9× the raw rate. argon2 runs on
 * libuv's thread pool, so each side is measured at a few concurrencies and compared at its best.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';
import { PASSWORD, benchIssuer, signIn } from './issuer-fixture.js';

const { issuer, close } = await benchIssuer();
const stored = await hash(PASSWORD, {
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});
const raw = async () => {
  if (!(await verify(stored, PASSWORD))) throw new Error('bad');
};
const results = await compare(
  [
    { name: 'argon2id verify alone, m=19456 t=2 p=1, 2 in flight (reference)', fn: raw, concurrency: 2 },
    { name: 'argon2id verify alone, 4 in flight', fn: raw, concurrency: 4 },
    {
      name: 'sign-in at the issuer (form, credentials, session), 2 in flight',
      fn: () => signIn(issuer),
      concurrency: 2,
    },
    { name: 'sign-in at the issuer, 4 in flight', fn: () => signIn(issuer), concurrency: 4 },
  ],
  { ms: Math.max(BENCH_MS, 2000), rounds: BENCH_ROUNDS },
);
report('Password sign-ins (each with one argon2id verification) against the raw verification rate', results);
const best = (prefix: string) => Math.max(...results.filter((r) => r.name.startsWith(prefix)).map((r) => r.opsPerSec));
process.stdout.write(`  best sign-in rate / best raw rate: ${(best('sign-in') / best('argon2id')).toFixed(2)}×\n`);
close();
