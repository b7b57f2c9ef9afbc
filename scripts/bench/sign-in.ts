/**
 * Password sign-ins at the issuer (GET the form, POST the credentials, session created), in
 * process, against the raw argon2id verification rate at the same parameters on the same
 * machine. DESIGN.md's goal: ≥ 0.8× the raw rate. Both run with the same concurrency, since
 * argon2 runs on libuv's thread pool.
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';
import { PASSWORD, benchIssuer, signIn } from './issuer-fixture.js';

const { issuer, close } = await benchIssuer();
const stored = await hash(PASSWORD, { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
const concurrency = 2;

const results = await compare(
  [
    {
      name: 'argon2id verify alone, m=19456 t=2 p=1 (reference)',
      fn: async () => {
        if (!(await verify(stored, PASSWORD))) throw new Error('bad');
      },
      concurrency,
    },
    { name: 'sign-in at the issuer (form, credentials, new session)', fn: () => signIn(issuer), concurrency },
  ],
  { ms: Math.max(BENCH_MS, 2000), rounds: BENCH_ROUNDS },
);
report(`Password sign-ins, ${concurrency} in flight`, results);
close();
