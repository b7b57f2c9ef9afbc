/**
 * Tessera as a server under test: seeded through the issuer's own API, then started as the
 * production command starts it (`node idp/dist/main.js`, NODE_ENV=production) from a build of
 * the current sources; from the TypeScript sources when there is no build, or when asked to.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { registerClient, registerResource, registerUser } from '@tessera/idp';
import { seedDatabase } from '../../src/seeding.js';
import { BENCH_CLIENT, BENCH_PASSWORD, BENCH_REDIRECT, BENCH_RESOURCE, benchEmail } from './constants.js';
import { REPO, TSX, logPath, startServer, type ServerProcess } from './processes.js';

/**
 * Seeds `database`: `users` people with the bench password, one API, and a confidential
 * first-party client allowed refresh tokens. Returns the client secret.
 */
export function seedTessera(database: string, users: number): Promise<{ secret: string }> {
  return seedDatabase(database, async (deps) => {
    for (let i = 0; i < users; i++)
      await registerUser(deps, { email: benchEmail(i), displayName: `Bench ${i}`, password: BENCH_PASSWORD });
    await registerResource(deps, { id: BENCH_RESOURCE, name: 'API' });
    const { secret } = await registerClient(deps, {
      id: BENCH_CLIENT,
      name: 'Bench',
      type: 'confidential',
      party: 'first',
      redirectUris: [BENCH_REDIRECT],
      resources: [BENCH_RESOURCE],
      grantTypes: ['refresh_token'],
    });
    return { secret: secret! };
  });
}

/**
 * Starts the issuer on `database` (a SQLite file or a postgres:// URL) at a loopback `port`;
 * `workers` above 1 starts a cluster (TESSERA_WORKERS). A node of several behind a balancer is
 * given the balancer's origin as `issuer`, and the key-encryption key the others use.
 */
export async function startTessera(options: {
  database: string;
  port: number;
  issuer?: string;
  keyEncryptionKey?: string;
  logDir: string;
  name?: string;
  workers?: number;
  /** From the build, as tesseraStartPath (start-path.ts) decided. */
  compiled: boolean;
  /** The compiled entry point of another checkout (compare --baseline); this one's by default. */
  entry?: string;
}): Promise<ServerProcess & { compiled: boolean }> {
  const { compiled } = options;
  const origin = `http://127.0.0.1:${options.port}`;
  const issuer = options.issuer ?? origin;
  const name = options.name ?? 'Tessera';
  const server = await startServer({
    name,
    args: compiled ? [options.entry ?? join(REPO, 'idp/dist/main.js')] : [...TSX, join(REPO, 'idp/src/main.ts')],
    env: {
      TESSERA_ISSUER: issuer,
      TESSERA_PORT: String(options.port),
      TESSERA_DATABASE: options.database,
      TESSERA_WORKERS: String(options.workers ?? 1),
      ...(compiled
        ? {
            NODE_ENV: 'production',
            TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
            // Production refuses to start without SMTP; the benchmarks send no mail.
            TESSERA_SMTP_URL: 'smtp://127.0.0.1:25',
          }
        : { NODE_ENV: 'development' }),
      ...(options.keyEncryptionKey && { TESSERA_KEY_ENCRYPTION_KEY: options.keyEncryptionKey }),
    },
    origin,
    readyPath: '/.well-known/openid-configuration',
    logFile: logPath(options.logDir, options.name ?? 'tessera'),
  });
  return { ...server, compiled };
}
