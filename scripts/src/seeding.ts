/**
 * Seeding a database file outside a running issuer: the demo and the benchmarks both fill one
 * through the issuer's own registration functions, never by writing rows themselves.
 */
import { createPasswordHasher, openStore, systemClock } from '@tessera/idp';

/** What the registration functions need, over a store opened on a database file. */
export interface Registration {
  store: ReturnType<typeof openStore>;
  passwords: Awaited<ReturnType<typeof createPasswordHasher>>;
  clock: typeof systemClock;
}

/** Opens `databaseFile`, lets `seed` register through it, and closes the store whatever happens. */
export async function seedDatabase<T>(databaseFile: string, seed: (deps: Registration) => Promise<T>): Promise<T> {
  const store = openStore(databaseFile);
  try {
    return await seed({ store, passwords: await createPasswordHasher(), clock: systemClock });
  } finally {
    store.close();
  }
}
