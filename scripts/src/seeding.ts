/**
 * Seeding a database outside a running issuer: the demo and the benchmarks both fill one
 * through the issuer's own registration functions, never by writing rows themselves.
 */
import { createPasswordHasher, openStore, systemClock } from '@tessera/idp';

/** What the registration functions need, over a store opened on a database. */
export interface Registration {
  store: Awaited<ReturnType<typeof openStore>>;
  passwords: Awaited<ReturnType<typeof createPasswordHasher>>;
  clock: typeof systemClock;
}

/**
 * Opens `database` (a SQLite file or a PostgreSQL URL, as TESSERA_DATABASE), lets `seed` register
 * through it, and closes the store whatever happens.
 */
export async function seedDatabase<T>(database: string, seed: (deps: Registration) => Promise<T>): Promise<T> {
  const store = await openStore(database);
  try {
    return await seed({ store, passwords: await createPasswordHasher(), clock: systemClock });
  } finally {
    await store.close();
  }
}
