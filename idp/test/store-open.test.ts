/**
 * Opening the store: the engine chosen by TESSERA_DATABASE alone, migrations applied once however
 * many nodes start together on one PostgreSQL database (the advisory lock), a database migrated
 * by a newer build refused on both engines before anything serves, and the readiness probe
 * following the database away and back. On a real PostgreSQL server (startThrowawayPostgres).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres, eventually, type ThrowawayPostgres } from '@tessera/shared/testing';
import type { Logger } from '@tessera/shared';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../src/keys/signing-key-material.js';
import { SQLITE_MIGRATIONS } from '../src/store/database.js';
import { openStore, type Store } from '../src/store/index.js';
import { readJournal } from '../src/store/migrations.js';
import { PG_MIGRATIONS } from '../src/store/pg/migrate.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';
import { freePort, spawnIssuer } from './support/issuer-process.js';

const sqliteJournal = readJournal(SQLITE_MIGRATIONS);
const pgJournal = readJournal(PG_MIGRATIONS);
/** A migration made by a build after this one: a minute after this build's newest. */
const laterThan = (journal: { when: number }[]) => journal.at(-1)!.when + 60_000;

let cluster: ThrowawayPostgres;
let admin: pg.Client;
let dir: string;
let databases = 0;

/** A new, empty PostgreSQL database on the throwaway server, and its URL. */
async function freshDatabase(): Promise<{ name: string; url: string }> {
  const name = `open_${++databases}`;
  await admin.query(`create database ${name}`);
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

beforeAll(async () => {
  cluster = await startThrowawayPostgres();
  admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  dir = mkdtempSync(join(tmpdir(), 'tessera-store-open-'));
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('openStore', () => {
  it('opens SQLite for a file path, PostgreSQL for a postgres:// or postgresql:// URL', async () => {
    const { url } = await freshDatabase();
    const locations = [join(dir, 'engine.db'), url, url.replace(/^postgres:/, 'postgresql:')];
    const engines: string[] = [];
    for (const location of locations) {
      const store = await openStore(location);
      try {
        engines.push(store.database.engine);
        // The same statement, `?` placeholders, and numbers for numbers on both engines.
        expect(
          await store.database.query('select count(*) as n, ? + 1 as next from users where email = ?', [41, 'x']),
        ).toEqual([{ n: 0, next: 42 }]);
      } finally {
        await store.close();
      }
    }
    expect(engines).toEqual(['sqlite', 'postgres', 'postgres']);
  });

  it("gives PostgreSQL's bigint times as numbers, as SQLite gives them", async () => {
    const { url } = await freshDatabase();
    const store = await openStore(url);
    try {
      const at = Date.UTC(2030, 0, 1);
      await store.database.query(
        'insert into users (id, email, display_name, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
        ['u1', 'u1@example.test', 'U', 'x', at, at],
      );
      // A `?` inside a quoted literal is not a placeholder.
      expect(await store.database.query("select created_at, 'why?' as q from users where id = ?", ['u1'])).toEqual([
        { created_at: at, q: 'why?' },
      ]);
    } finally {
      await store.close();
    }
  });

  it('applies the migrations once when several nodes open one fresh PostgreSQL database at once', async () => {
    const { url } = await freshDatabase();
    const nodes = 4;
    // Each with a pool of its own, as separate processes would be.
    const stores = await Promise.all(Array.from({ length: nodes }, () => openStore(url, { poolSize: 2 })));
    try {
      const applied = await stores[0]!.database.query(
        'select created_at from drizzle.__drizzle_migrations order by created_at',
      );
      expect(applied.map((row) => row.created_at)).toEqual(pgJournal.map((entry) => entry.when));
      // Every node serves on the migrated schema.
      for (const store of stores) expect(await store.users.findByEmail('nobody@example.test')).toBeUndefined();
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses a PostgreSQL database migrated by a newer build, naming both newest migrations', async () => {
    const { url } = await freshDatabase();
    await (await openStore(url)).close();
    const newer = new pg.Client({ connectionString: url });
    await newer.connect();
    try {
      await newer.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [
        'from-a-newer-build',
        laterThan(pgJournal),
      ]);
    } finally {
      await newer.end();
    }
    const expected = new RegExp(
      `schema is newer than this build knows: the database's newest migration is an unknown migration of ` +
        `${new Date(laterThan(pgJournal)).toISOString()}, this build's newest is ${pgJournal.at(-1)!.tag}`,
    );
    await expect(openStore(url)).rejects.toThrow(expected);
    // Before serving: a node started on it exits non-zero with the same message.
    await expect(spawnIssuer({ database: url, port: await freePort() })).rejects.toThrow(
      new RegExp(`exited with code 1[\\s\\S]*${expected.source}`),
    );
  });

  it('refuses a SQLite database migrated by a newer build, naming both newest migrations', async () => {
    const file = join(dir, 'newer.db');
    await (await openStore(file)).close();
    const newer = new Database(file);
    try {
      newer
        .prepare('insert into __drizzle_migrations (hash, created_at) values (?, ?)')
        .run('from-a-newer-build', laterThan(sqliteJournal));
    } finally {
      newer.close();
    }
    const expected = new RegExp(
      `schema is newer than this build knows: the database's newest migration is an unknown migration of ` +
        `${new Date(laterThan(sqliteJournal)).toISOString()}, this build's newest is ${sqliteJournal.at(-1)!.tag}`,
    );
    await expect(openStore(file)).rejects.toThrow(expected);
    await expect(spawnIssuer({ database: file, port: await freePort() })).rejects.toThrow(
      new RegExp(`exited with code 1[\\s\\S]*${expected.source}`),
    );
  });

  it('opens a database its own build migrated, again and again', async () => {
    const { url } = await freshDatabase();
    const file = join(dir, 'again.db');
    for (const location of [url, file]) {
      for (let i = 0; i < 2; i++) {
        const store: Store = await openStore(location);
        await store.close();
      }
    }
  });
});

describe('the readiness probe', () => {
  let idp: RunningIssuer;
  let name: string;
  const events: string[] = [];
  const log: Logger = {
    info: (event) => events.push(event),
    warn: (event) => events.push(event),
    error: (event) => events.push(event),
  };

  beforeAll(async () => {
    const database = await freshDatabase();
    name = database.name;
    idp = await startIssuer({
      env: { TESSERA_DATABASE: database.url, TESSERA_DATABASE_POOL: '3' },
      issuer: { log },
    });
  }, 60_000);
  afterAll(async () => {
    await admin.query(`alter database ${name} allow_connections true`);
    await idp?.cleanup();
  });

  const probe = async (path: string) => {
    const res = await fetch(`${idp.url}${path}`);
    return { status: res.status, cacheControl: res.headers.get('cache-control'), body: await res.text() };
  };

  it('is ready while the database answers, not ready while it is away, and ready again when it is back', async () => {
    const { database } = idp.issuer.ctx.store;
    expect(database.engine === 'postgres' && database.pool.options.max).toBe(3);
    expect(await probe('/readyz')).toEqual({ status: 200, cacheControl: 'no-store', body: 'ready\n' });

    // The database goes away: no new connection is accepted, and the node's are ended.
    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
    // The ended idle connections were reported, not fatal. Checked before any request takes one
    // of them: a query on a connection whose end is not yet read fails as that query's error.
    await eventually(() => events.includes('store.connection_lost'));
    expect(await probe('/readyz')).toEqual({
      status: 503,
      cacheControl: 'no-store',
      body: 'not ready: database unreachable\n',
    });
    // Alive all the same: restarting the process would not bring the database back.
    expect(await probe('/healthz')).toEqual({ status: 200, cacheControl: 'no-store', body: 'live\n' });
    expect(events).toContain('issuer.not_ready');

    // Back: the node reconnects on its own.
    await admin.query(`alter database ${name} allow_connections true`);
    // Within the circuit's probe interval (store/pg/circuit.ts): a probe, not a request, finds the way back.
    await eventually(async () => (await probe('/readyz')).status === 200, 3000);
    expect(await probe('/readyz')).toEqual({ status: 200, cacheControl: 'no-store', body: 'ready\n' });
    expect(events.slice(events.indexOf('issuer.not_ready'))).toContain('issuer.ready');
  });

  it('is not ready while the schema is not the one this build migrates to (PostgreSQL)', async () => {
    await expectNotReadyWhileSchemaDiffers(idp, 'drizzle.__drizzle_migrations');
  });

  it('is not ready while its key ring cannot follow the store (PostgreSQL)', async () => {
    await expectNotReadyWhileKeysCannotLoad(idp);
  });

  it('answers on SQLite too, with the schema and the keys checked', async () => {
    const sqlite = await startIssuer();
    try {
      expect(sqlite.issuer.ctx.store.database.engine).toBe('sqlite');
      const res = await fetch(`${sqlite.url}/readyz`);
      expect([res.status, res.headers.get('cache-control'), await res.text()]).toEqual([200, 'no-store', 'ready\n']);
      await expectNotReadyWhileSchemaDiffers(sqlite, '__drizzle_migrations');
      await expectNotReadyWhileKeysCannotLoad(sqlite);
    } finally {
      await sqlite.cleanup();
    }
  });
});

const readiness = async (running: RunningIssuer) => {
  const res = await fetch(`${running.url}/readyz`);
  return { status: res.status, body: await res.text() };
};

/**
 * The newest migration taken off the record (as a restore of an older backup looks, or a database
 * another build migrated differently): not ready, and ready again once it is back.
 */
async function expectNotReadyWhileSchemaDiffers(running: RunningIssuer, table: string) {
  const { query } = running.issuer.ctx.store.database;
  const [newest] = await query(`select id, hash, created_at from ${table} order by created_at desc limit 1`);
  expect(newest).toBeDefined();
  await query(`delete from ${table} where created_at = ?`, [newest!.created_at]);
  try {
    expect(await readiness(running)).toEqual({ status: 503, body: 'not ready: database schema not current\n' });
  } finally {
    await query(`insert into ${table} (id, hash, created_at) values (?, ?, ?)`, [
      newest!.id,
      newest!.hash,
      newest!.created_at,
    ]);
  }
  expect(await readiness(running)).toEqual({ status: 200, body: 'ready\n' });
}

/**
 * Another process promotes a key written with another key-encryption key: this node cannot decrypt
 * it and would go on signing with the key the others retired, so it is not ready — until a key it
 * can open is current again.
 */
async function expectNotReadyWhileKeysCannotLoad(running: RunningIssuer) {
  const { store, keys, clock, config } = running.issuer.ctx;
  const promoteNew = async (kek: Uint8Array) => {
    const ring = await store.signingKeys.list();
    const current = ring.find((k) => k.state === 'current')!;
    const next = ring.find((k) => k.state === 'next');
    const key = await generateSigningKey(config.signingAlgorithm, 'next', kek, clock.now());
    expect(await store.signingKeys.createNext(key, next?.kid)).toBe(true);
    expect(await store.signingKeys.promote({ currentKid: current.kid, nextKid: key.kid, at: clock.now() })).toBe(true);
    return key.kid;
  };
  const signing = keys.kid;
  await promoteNew(randomBytes(32));
  expect(await readiness(running)).toEqual({ status: 503, body: 'not ready: signing keys not loaded\n' });
  expect(keys.kid).toBe(signing);
  const readable = await promoteNew(config.keyEncryptionKey);
  expect(await readiness(running)).toEqual({ status: 200, body: 'ready\n' });
  expect(keys.kid).toBe(readable);
}
