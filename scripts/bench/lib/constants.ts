/** What both issuers under test are set up with: the same people, client, API and password. */
export const BENCH_PASSWORD = 'benchmark password 1';
export const BENCH_RESOURCE = 'https://api.example';
export const BENCH_REDIRECT = 'http://app.localhost:4001/callback';
export const BENCH_CLIENT = 'bench-web';
export const BENCH_SCOPE = 'openid profile email';
export const benchEmail = (i: number) => `bench-${i}@example.com`;
/**
 * Tessera's argon2id parameters (OWASP_ARGON2ID in idp/src/crypto/passwords.ts, OWASP's first
 * configuration), written out rather than imported: the peer and raw-argon2 processes must not load
 * the issuer's modules, or their memory would be measured with Tessera's code in it.
 */
export const ARGON2ID_PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
